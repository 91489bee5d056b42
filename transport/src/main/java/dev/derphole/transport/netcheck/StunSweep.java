package dev.derphole.transport.netcheck;

import dev.derphole.derp.stun.Stun;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Asks many STUN servers at once from one UDP socket, which is what makes their answers
 * comparable: the same local port, seen from several places. Each server gets its own transaction
 * ID, sent at 0, 100 and 200 ms (UDP may lose any); the first answer with that ID counts, and its
 * round trip is measured from the first send. Anything else that arrives is dropped. The sweep
 * ends when every server answered or the budget is spent.
 */
final class StunSweep {
  static final long[] SEND_AT_MILLIS = {0, 100, 200};
  private static final int RECEIVE_BUFFER_BYTES = 2048;

  /** A server to ask, with what the report says about it. */
  record Target(InetSocketAddress server, int regionId) {}

  /** One answer: where the server saw us, and how long it took. */
  record Answer(Target target, InetSocketAddress mapped, Duration rtt) {}

  private StunSweep() {}

  static List<Answer> run(DatagramSocket socket, List<Target> targets, Duration budget) throws IOException {
    int n = targets.size();
    byte[][] ids = new byte[n][];
    byte[][] requests = new byte[n][];
    for (int i = 0; i < n; i++) {
      ids[i] = Stun.newTransactionId();
      requests[i] = Stun.bindingRequest(ids[i]);
    }
    Answer[] answers = new Answer[n];
    int answered = 0;
    byte[] buffer = new byte[RECEIVE_BUFFER_BYTES];
    DatagramPacket inbound = new DatagramPacket(buffer, buffer.length);
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    int rounds = 0;
    int original = socket.getSoTimeout();
    try {
      while (answered < n) {
        long now = System.nanoTime();
        if (now - deadline >= 0) {
          break;
        }
        if (rounds < SEND_AT_MILLIS.length && now - sendTime(start, rounds) >= 0) {
          for (int i = 0; i < n; i++) {
            if (answers[i] == null) {
              send(socket, requests[i], targets.get(i).server());
            }
          }
          rounds++;
        }
        long wake = rounds < SEND_AT_MILLIS.length ? Math.min(sendTime(start, rounds), deadline) : deadline;
        socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(wake - now)));
        inbound.setLength(buffer.length);
        try {
          socket.receive(inbound);
        } catch (SocketTimeoutException e) {
          continue;
        }
        long at = System.nanoTime();
        Optional<Stun.BindingResponse> r = Stun.parseBindingResponse(Arrays.copyOf(buffer, inbound.getLength()));
        if (r.isEmpty()) {
          continue;
        }
        for (int i = 0; i < n; i++) {
          if (answers[i] == null && Arrays.equals(ids[i], r.get().transactionId())) {
            answers[i] = new Answer(targets.get(i), r.get().mappedAddress(), Duration.ofNanos(at - start));
            answered++;
            break;
          }
        }
      }
    } finally {
      socket.setSoTimeout(original);
    }
    List<Answer> out = new ArrayList<>();
    for (Answer a : answers) {
      if (a != null) {
        out.add(a);
      }
    }
    return out;
  }

  /** A send that fails (no route to that family, an ICMP error from an earlier send) loses that server only. */
  private static void send(DatagramSocket socket, byte[] request, InetSocketAddress server) {
    try {
      socket.send(new DatagramPacket(request, request.length, server));
    } catch (IOException e) {
      // that server stays unanswered
    }
  }

  private static long sendTime(long start, int round) {
    return start + TimeUnit.MILLISECONDS.toNanos(SEND_AT_MILLIS[round]);
  }
}
