package dev.derphole.session.share;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamAddress;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamChannelConfig;
import io.netty.handler.codec.quic.QuicStreamPriority;
import io.netty.handler.codec.quic.QuicStreamType;

/**
 * An {@link EmbeddedChannel} standing in for a QUIC stream: no connection behind it ({@link
 * #parent()} is null), FIN as output shutdown, and a reset recorded in {@link #resetCode}.
 */
class EmbeddedQuicStream extends EmbeddedDuplexChannel implements QuicStreamChannel {
  /** Made on first use: EmbeddedChannel's constructor reads the config before fields are set. */
  private Config config;
  /** The application error code of a RESET_STREAM and STOP_SENDING, or -1. */
  volatile int resetCode = -1;

  @Override
  public synchronized QuicStreamChannelConfig config() {
    if (config == null) {
      config = new Config(this);
    }
    return config;
  }

  @Override
  public QuicChannel parent() {
    return null;
  }

  @Override
  public QuicStreamAddress localAddress() {
    return null;
  }

  @Override
  public QuicStreamAddress remoteAddress() {
    return null;
  }

  @Override
  public QuicStreamChannel read() {
    super.read();
    return this;
  }

  @Override
  public QuicStreamChannel flush() {
    super.flush();
    return this;
  }

  @Override
  public boolean isLocalCreated() {
    return true;
  }

  @Override
  public QuicStreamType type() {
    return QuicStreamType.BIDIRECTIONAL;
  }

  @Override
  public long streamId() {
    return 0;
  }

  @Override
  public QuicStreamPriority priority() {
    return null;
  }

  @Override
  public ChannelFuture updatePriority(QuicStreamPriority priority, ChannelPromise promise) {
    return promise.setSuccess();
  }

  @Override
  public ChannelFuture shutdownInput(int error, ChannelPromise promise) {
    return shutdownInput(promise);
  }

  @Override
  public ChannelFuture shutdownOutput(int error, ChannelPromise promise) {
    return shutdownOutput(promise);
  }

  @Override
  public ChannelFuture shutdown(int error, ChannelPromise promise) {
    resetCode = error;
    return shutdown(promise);
  }

  /** The options a bridge sets; the rest as any channel has them. */
  private static final class Config extends DefaultChannelConfig implements QuicStreamChannelConfig {
    private volatile boolean allowHalfClosure;
    private volatile boolean readFrames;

    Config(EmbeddedChannel channel) {
      super(channel);
    }

    @Override
    public QuicStreamChannelConfig setReadFrames(boolean readFrames) {
      this.readFrames = readFrames;
      return this;
    }

    @Override
    public boolean isReadFrames() {
      return readFrames;
    }

    @Override
    public QuicStreamChannelConfig setAllowHalfClosure(boolean allow) {
      this.allowHalfClosure = allow;
      return this;
    }

    @Override
    public boolean isAllowHalfClosure() {
      return allowHalfClosure;
    }

    @Override
    @Deprecated
    public QuicStreamChannelConfig setMaxMessagesPerRead(int n) {
      super.setMaxMessagesPerRead(n);
      return this;
    }

    @Override
    public QuicStreamChannelConfig setWriteSpinCount(int n) {
      super.setWriteSpinCount(n);
      return this;
    }

    @Override
    public QuicStreamChannelConfig setAllocator(ByteBufAllocator allocator) {
      super.setAllocator(allocator);
      return this;
    }

    @Override
    public QuicStreamChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
      super.setRecvByteBufAllocator(allocator);
      return this;
    }

    @Override
    public QuicStreamChannelConfig setAutoRead(boolean autoRead) {
      super.setAutoRead(autoRead);
      return this;
    }

    @Override
    public QuicStreamChannelConfig setAutoClose(boolean autoClose) {
      super.setAutoClose(autoClose);
      return this;
    }

    @Override
    public QuicStreamChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
      super.setMessageSizeEstimator(estimator);
      return this;
    }

    @Override
    public QuicStreamChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark mark) {
      super.setWriteBufferWaterMark(mark);
      return this;
    }

    @Override
    public QuicStreamChannelConfig setConnectTimeoutMillis(int millis) {
      super.setConnectTimeoutMillis(millis);
      return this;
    }

    @Override
    @Deprecated
    public QuicStreamChannelConfig setWriteBufferHighWaterMark(int mark) {
      super.setWriteBufferHighWaterMark(mark);
      return this;
    }

    @Override
    @Deprecated
    public QuicStreamChannelConfig setWriteBufferLowWaterMark(int mark) {
      super.setWriteBufferLowWaterMark(mark);
      return this;
    }
  }
}
