package dev.derphole.transport.lanes;

import java.io.IOException;

/** Where the {@link Reassembler} puts the stream's bytes, in order, each byte once. */
public interface InOrderSink {
  void write(byte[] bytes, int offset, int length) throws IOException;
}
