/**
 * Events forwarded to message brokers (RabbitMQ, NATS JetStream, MQTT), each a
 * durable event consumer, and broker messages turned into jobs.
 *
 * @example
 * const brokers = addBrokers(events, jobs, config.events, project.consumers ?? [], log)
 * brokers.start()
 * await brokers.close()
 */
export { AMQP_EXCHANGE, amqpRoutingKey } from './amqp.js'
export { addBrokers, type Brokers, type JobAdder } from './brokers.js'
export {
  type AmqpConsumer,
  type BrokerConsumer,
  brokerConsumerProblem,
  duplicateConsumerProblem,
  type NatsConsumer,
} from './consumers.js'
export { mqttTopic } from './mqtt.js'
export { NATS_STREAM, natsSubject } from './nats.js'
