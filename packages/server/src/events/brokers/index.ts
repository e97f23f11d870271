/**
 * Events forwarded to message brokers (RabbitMQ, NATS JetStream, MQTT), each a
 * durable event consumer, and broker messages turned into jobs.
 *
 * @example
 * const brokers = await addBrokers(events, jobs, config.events, project.consumers ?? [], log)
 * brokers.start()
 * await brokers.close()
 */
export { addBrokers, type Brokers, type JobAdder } from './brokers.js'
export {
  type AmqpConsumer,
  type BrokerConsumer,
  brokerConsumerProblem,
  duplicateConsumerProblem,
  type NatsConsumer,
} from './consumers.js'
export { AMQP_EXCHANGE, amqpRoutingKey, mqttTopic, NATS_STREAM, natsSubject } from './destinations.js'
