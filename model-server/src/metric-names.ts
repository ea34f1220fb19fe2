/**
 * Metric names the deployer refers to as well (an autoscaler's metric), kept free of imports so
 * that the deployer can read them without loading the server's dependencies.
 */

/** The gauge of requests in flight, which a track autoscaled on `targetConcurrency` scales by. */
export const IN_FLIGHT_METRIC = "modelship_requests_in_flight";
