/** One live connection of a device, as the rest of the Hive sees it (the gateway adapts socket.io to it). */
export interface DeviceConnection {
  /** Unique per connection; a device that reconnects gets a new one. */
  readonly connectionId: string;
  readonly deviceId: string;
  /** Emits and waits for the device's acknowledgement; rejects when none arrives in time. */
  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  disconnect(): void;
}
