package dev.derphole.transport.lanes;

import java.io.IOException;

/** A lane carried something no honest peer sends: the lane (and the transfer) must be closed. */
public final class LaneProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  public LaneProtocolException(String message) {
    super(message);
  }
}
