package dev.derphole.session.share;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DuplexChannel;

/** An {@link EmbeddedChannel} that half-closes, as a TCP connection does; nothing crosses a socket. */
class EmbeddedDuplexChannel extends EmbeddedChannel implements DuplexChannel {
  private volatile boolean inputShut;
  private volatile boolean outputShut;

  @Override
  public boolean isInputShutdown() {
    return inputShut;
  }

  @Override
  public ChannelFuture shutdownInput() {
    return shutdownInput(newPromise());
  }

  @Override
  public ChannelFuture shutdownInput(ChannelPromise promise) {
    inputShut = true;
    return promise.setSuccess();
  }

  @Override
  public boolean isOutputShutdown() {
    return outputShut;
  }

  @Override
  public ChannelFuture shutdownOutput() {
    return shutdownOutput(newPromise());
  }

  @Override
  public ChannelFuture shutdownOutput(ChannelPromise promise) {
    outputShut = true;
    return promise.setSuccess();
  }

  @Override
  public boolean isShutdown() {
    return inputShut && outputShut;
  }

  @Override
  public ChannelFuture shutdown() {
    return shutdown(newPromise());
  }

  @Override
  public ChannelFuture shutdown(ChannelPromise promise) {
    inputShut = true;
    outputShut = true;
    return promise.setSuccess();
  }
}
