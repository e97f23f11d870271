const WIDTH = 320
const HEIGHT = 96
const PAD = 4

export interface Line {
  label: string
  values: (number | null)[]
  /** A CSS class that sets the stroke, so both themes can colour it. */
  className: string
}

/**
 * A small SVG line chart of evenly spaced samples, scaled from zero to the largest value. Its
 * text alternative is the latest value of each line, which is also printed under it.
 */
export function LineChart({
  title,
  unit,
  lines,
  format = (value) => value.toFixed(value < 10 ? 2 : 0),
}: {
  title: string
  unit: string
  lines: Line[]
  format?: (value: number) => string
}) {
  const count = Math.max(...lines.map((line) => line.values.length), 2)
  const max = Math.max(...lines.flatMap((line) => line.values.filter((v): v is number => v !== null)), 0)
  const top = max > 0 ? max * 1.1 : 1
  const x = (index: number) => PAD + ((WIDTH - 2 * PAD) * index) / (count - 1)
  const y = (value: number) => HEIGHT - PAD - ((HEIGHT - 2 * PAD) * value) / top
  const latest = lines.map((line) => {
    const value = line.values.findLast((v) => v !== null)
    return `${line.label} ${value === undefined || value === null ? 'no data' : `${format(value)} ${unit}`}`
  })
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title}: ${latest.join(', ')}`}>
        <line className="chart-axis" x1={PAD} x2={WIDTH - PAD} y1={HEIGHT - PAD} y2={HEIGHT - PAD} />
        {lines.map((line) => {
          const last = line.values.length - 1
          const lastValue = line.values[last]
          return (
            <g key={line.label} className={line.className}>
              <polyline
                fill="none"
                points={line.values
                  .map((value, index) => (value === null ? null : `${x(index)},${y(value)}`))
                  .filter(Boolean)
                  .join(' ')}
              />
              {/* The newest point, so that a chart with one point shows it too. */}
              {lastValue !== null && lastValue !== undefined && (
                <circle cx={x(last)} cy={y(lastValue)} r={2.5} />
              )}
            </g>
          )
        })}
      </svg>
      <p className="chart-legend">
        {lines.map((line, index) => (
          <span key={line.label} className={line.className}>
            {latest[index]}
          </span>
        ))}
        <span>
          (max {format(max)} {unit})
        </span>
      </p>
    </figure>
  )
}
