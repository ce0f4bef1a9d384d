/**
 * `call`, shared while it runs: callers that come while one call is in flight get its promise, the
 * next caller after it settled starts a new one. Prometheus' registry starts every collector of a
 * scrape in one go, so the gauges of one scrape share one read of the state they report.
 */
export function shareInFlight<T>(call: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    if (!inFlight) {
      const started = call();
      inFlight = started;
      started.then(
        () => (inFlight = inFlight === started ? undefined : inFlight),
        () => (inFlight = inFlight === started ? undefined : inFlight),
      );
    }
    return inFlight;
  };
}
