package dev.derphole.transport.portmap;

import java.io.IOException;

/** The gateway answered a PCP request, but not in PCP version 2: NAT-PMP may still work. */
final class PcpUnsupportedException extends IOException {
  private static final long serialVersionUID = 1L;

  PcpUnsupportedException(String message) {
    super(message);
  }
}
