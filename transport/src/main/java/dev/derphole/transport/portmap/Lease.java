package dev.derphole.transport.portmap;

import java.io.IOException;

/**
 * A mapping a gateway granted, with what it takes to renew or delete it (the PCP nonce, the UPnP
 * control URL, the port). Immutable: {@link #renew} returns the next lease.
 */
interface Lease {
  Mapping mapping();

  /** Asks the gateway to keep the mapping for another lifetime; it may move it. */
  Lease renew(Deadline deadline) throws IOException;

  /** Asks the gateway to delete the mapping. */
  void release(Deadline deadline) throws IOException;
}
