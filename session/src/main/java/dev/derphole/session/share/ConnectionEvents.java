package dev.derphole.session.share;

/**
 * What {@link ShareServer} and {@link OpenListener} tell their command about forwarded
 * connections. Called on Netty event-loop threads: implementations must be quick and thread-safe.
 */
public interface ConnectionEvents {
  /** A connection is now bridged; {@code open} connections are bridged in all. */
  void opened(int open);

  /** A bridged connection ended, in order or not; {@code open} are left. */
  void closed(int open);

  /**
   * A connection could not be served and was closed at once; {@code why} is one line for the user,
   * e.g. {@code connection limit reached (512 open)} or
   * {@code cannot connect to 127.0.0.1:3000: Connection refused}.
   */
  void refused(String why);

  /** Ignores everything. */
  ConnectionEvents NONE = new ConnectionEvents() {
    @Override
    public void opened(int open) {}

    @Override
    public void closed(int open) {}

    @Override
    public void refused(String why) {}
  };
}
