package dev.derphole.transport.portmap;

import java.io.IOException;

/** A UPnP action the gateway answered with a {@link UpnpFault}. */
final class UpnpFaultException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int errorCode;

  UpnpFaultException(String message, UpnpFault fault) {
    super(message + ": " + fault);
    this.errorCode = fault.errorCode();
  }

  int errorCode() {
    return errorCode;
  }
}
