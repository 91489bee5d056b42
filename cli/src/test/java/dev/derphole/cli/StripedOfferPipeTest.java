package dev.derphole.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The bounded pipe between the offer protocol's thread and the striping's. */
class StripedOfferPipeTest {
  @Test
  void bytesCrossInOrderThenEndOfStream() throws IOException {
    StripedOffer.Pipe pipe = new StripedOffer.Pipe();
    pipe.out.write(new byte[] {1, 2, 3}, 0, 3);
    pipe.out.write(7);
    pipe.out.close();
    assertThat(pipe.in.readAllBytes()).containsExactly(1, 2, 3, 7);
    assertThat(pipe.in.read()).isEqualTo(-1);
  }

  @Test
  void itHoldsAtMostItsSlotsAndAWriterWaitingOnItSeesTheReadersFailure() throws Exception {
    StripedOffer.Pipe pipe = new StripedOffer.Pipe();
    for (int i = 0; i < StripedOffer.Pipe.SLOTS; i++) {
      pipe.out.write(new byte[] {(byte) i}, 0, 1);
    }
    assertThat(pipe.full()).isTrue();
    CompletableFuture<Void> blocked = CompletableFuture.runAsync(() -> {
      try {
        pipe.out.write(new byte[] {42}, 0, 1);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    pipe.fail("the lanes failed");
    assertThatThrownBy(() -> blocked.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasRootCauseMessage("the lanes failed");
    assertThatThrownBy(() -> pipe.in.read()).isInstanceOf(IOException.class).hasMessage("the lanes failed");
  }
}
