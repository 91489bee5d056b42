package dev.derphole.bench;

import dev.derphole.derp.client.DerpClient;
import dev.derphole.derp.client.DerpClientListener;
import dev.derphole.derp.client.DerpEndpoint;
import dev.derphole.derp.key.NodePrivateKey;
import dev.derphole.derp.key.NodePublicKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One sender streaming packets to one receiver through the relay, each on its own DERP connection.
 *
 * <pre>
 *   packet: 8B sequence number (big-endian, from 0) + filler up to the packet size
 * </pre>
 *
 * <p>The sender pumps on its connection's event loop, so {@link DerpClient#send} never hops
 * threads: it writes while the connection {@linkplain DerpClient#isWritable() is writable}, yields
 * the loop every {@value #BURST} packets so the receivers sharing it get their turn, and waits for
 * {@link DerpClientListener#onWritabilityChanged} when the buffer is full. The relay drops a packet
 * when the receiver's queue is full, so the receiver counts what actually arrives.
 *
 * <p>With a window, the sender also keeps at most that many packets in flight, the way a transport
 * with flow control would. Sender and receiver share this JVM, so no acknowledgements cross the
 * relay: the receiver publishes the highest sequence number it has seen, and everything up to it
 * has either arrived or been dropped (one sender, one TCP path, one queue: order is kept). Only
 * when the tail of the window is dropped does nothing move; after {@value #STALL_MILLIS} ms of that
 * the sender writes the window off and goes on.
 *
 * <p>Each counter has one writer (the event loop its connection is bound to) and is read by other
 * threads: volatile fields suffice. Only the rare anomaly count has two writers.
 */
final class RelayPair implements AutoCloseable {
  /** Packets written before the pump hands the loop back to other channels. */
  static final int BURST = 256;
  /** Bytes of sequence number at the start of each packet: the smallest packet size. */
  static final int SEQUENCE_LENGTH = 8;
  /** How long a windowed sender waits on a receiver that makes no progress. */
  static final long STALL_MILLIS = 500;
  /** Filler bytes up to which a packet is built by copying rather than as a composite buffer. */
  static final int COPY_FILLER_UP_TO = 4096;

  private final ByteBuf filler;
  private final long packetBudget;
  private final int window;
  private final NodePrivateKey senderKey = NodePrivateKey.generate();
  private final NodePrivateKey receiverKey = NodePrivateKey.generate();
  private final NodePublicKey destination = receiverKey.publicKey();
  /** Packets from a stranger, short, or out of order: a sign the run is not measuring what it says. */
  private final AtomicLong anomalies = new AtomicLong();
  /** Set by a windowed sender that waits for the receiver to catch up. */
  private final AtomicBoolean waitingForReceiver = new AtomicBoolean();
  private EventLoop senderLoop;
  private DerpClient sender;
  private DerpClient receiver;
  private ScheduledFuture<?> stallCheck;

  private volatile boolean running;
  private volatile long sent;
  /** Sequence numbers below this no longer count against the window. */
  private volatile long writtenOffBelow;
  private volatile long received;
  private volatile long receivedBytes;
  /** Highest sequence number received plus one: everything below it arrived or was dropped. */
  private volatile long seenBelow;
  private volatile String closedReason;
  /** Touched on the sender's loop only. */
  private boolean pumpQueued;
  private long seenAtLastCheck = -1;

  /**
   * @param filler read-only, never released: the bytes after the sequence number of every packet
   * @param packetBudget packets to send before stopping, or {@link Long#MAX_VALUE} to run until {@link #stop}
   * @param window most packets in flight, or 0 to send whenever the connection is writable
   */
  RelayPair(ByteBuf filler, long packetBudget, int window) {
    this.filler = filler;
    this.packetBudget = packetBudget;
    this.window = window;
  }

  /** Connects the receiver first, so the relay knows it before the first packet arrives. */
  void connect(DerpEndpoint endpoint, EventLoop receiverLoop, EventLoop senderLoop) throws IOException {
    this.senderLoop = senderLoop;
    receiver = DerpClient.connect(endpoint, receiverKey, new ReceiverSide(), receiverLoop, DerpClient.Options.defaults());
    sender = DerpClient.connect(endpoint, senderKey, new SenderSide(), senderLoop, DerpClient.Options.defaults());
  }

  void start() {
    running = true;
    if (window > 0) {
      stallCheck = senderLoop.scheduleAtFixedRate(this::checkStall, STALL_MILLIS, STALL_MILLIS, TimeUnit.MILLISECONDS);
    }
    senderLoop.execute(this::pump);
  }

  void stop() {
    running = false;
    if (stallCheck != null) {
      stallCheck.cancel(false);
    }
  }

  long sent() {
    return sent;
  }

  long received() {
    return received;
  }

  long receivedBytes() {
    return receivedBytes;
  }

  long anomalies() {
    return anomalies.get();
  }

  boolean doneSending() {
    return sent >= packetBudget || !running;
  }

  /** Why a connection closed during the run, or null. */
  String closedReason() {
    return closedReason;
  }

  private long inFlight(long sentSoFar) {
    return sentSoFar - Math.max(seenBelow, writtenOffBelow);
  }

  private void pump() {
    pumpQueued = false;
    long n = sent;
    int burst = 0;
    while (running && n < packetBudget && sender.isWritable()) {
      if (window > 0 && inFlight(n) >= window) {
        sent = n;
        waitingForReceiver.set(true);
        if (inFlight(n) >= window) {
          return; // the receiver wakes us, or checkStall does
        }
        waitingForReceiver.set(false); // it caught up while we were setting the flag
      }
      if (!sender.send(destination, packet(n))) {
        running = false;
        break;
      }
      n++;
      if (++burst == BURST) {
        sent = n;
        queuePump();
        return;
      }
    }
    sent = n;
    // Not writable: onWritabilityChanged(true) queues the next round.
  }

  /**
   * Sequence number and filler: one buffer with the filler copied in for small packets (a copy of a
   * few KiB costs less than a composite buffer and the extra iovec it writes), the filler itself
   * behind a small head buffer for large ones.
   */
  private ByteBuf packet(long sequence) {
    int fill = filler.readableBytes();
    if (fill <= COPY_FILLER_UP_TO) {
      ByteBuf p = ByteBufAllocator.DEFAULT.directBuffer(SEQUENCE_LENGTH + fill);
      return p.writeLong(sequence).writeBytes(filler, filler.readerIndex(), fill);
    }
    ByteBuf head = ByteBufAllocator.DEFAULT.directBuffer(SEQUENCE_LENGTH, SEQUENCE_LENGTH).writeLong(sequence);
    return Unpooled.wrappedBuffer(2, head, filler.duplicate());
  }

  private void queuePump() {
    if (!pumpQueued) {
      pumpQueued = true;
      senderLoop.execute(this::pump);
    }
  }

  /** On the sender's loop: a windowed sender whose receiver saw nothing new for a while writes the window off. */
  private void checkStall() {
    long seen = seenBelow;
    if (waitingForReceiver.get() && seen == seenAtLastCheck) {
      writtenOffBelow = sent;
      if (waitingForReceiver.compareAndSet(true, false)) {
        queuePump();
      }
    }
    seenAtLastCheck = seen;
  }

  @Override
  public void close() {
    stop();
    if (sender != null) {
      sender.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  private final class SenderSide implements DerpClientListener {
    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      anomalies.incrementAndGet();
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
      // Queued rather than called here: this runs in the middle of a flush.
      if (writable && running) {
        queuePump();
      }
    }

    @Override
    public void onClosed(String reason) {
      if (running) {
        closedReason = "sender: " + reason;
      }
    }
  }

  private final class ReceiverSide implements DerpClientListener {
    private final NodePublicKey expected = senderKey.publicKey();

    @Override
    public void onPacket(NodePublicKey source, ByteBuf packet) {
      if (!expected.equals(source) || packet.readableBytes() < SEQUENCE_LENGTH) {
        anomalies.incrementAndGet();
        return;
      }
      long sequence = packet.getLong(packet.readerIndex());
      if (sequence < seenBelow) {
        anomalies.incrementAndGet(); // reordered or duplicated: the relay must do neither
        return;
      }
      seenBelow = sequence + 1;
      received = received + 1;
      receivedBytes = receivedBytes + packet.readableBytes();
      // Wake a waiting sender once half the window is free, not for every packet.
      if (window > 0 && waitingForReceiver.get() && inFlight(sent) <= window / 2
          && waitingForReceiver.compareAndSet(true, false)) {
        senderLoop.execute(RelayPair.this::pump);
      }
    }

    @Override
    public void onClosed(String reason) {
      if (running) {
        closedReason = "receiver: " + reason;
      }
    }
  }
}
