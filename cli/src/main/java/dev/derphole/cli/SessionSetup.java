package dev.derphole.cli;

import dev.derphole.derp.map.DerpMap;
import dev.derphole.derp.map.DerpMapException;
import dev.derphole.derp.map.DerpMapSource;
import dev.derphole.session.Reporter;
import dev.derphole.session.SessionException;
import dev.derphole.session.SessionOptions;
import io.netty.channel.EventLoopGroup;
import dev.derphole.session.text.PeerText;
import dev.derphole.session.token.Capability;
import dev.derphole.session.token.Token;
import dev.derphole.session.token.TokenException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Builds the options every session command shares, from global flags and the environment. */
final class SessionSetup implements AutoCloseable {
  static final Duration MAP_TIMEOUT = Duration.ofSeconds(10);

  final EventLoopGroup group;
  final SessionOptions options;

  SessionSetup(GlobalOptions global, boolean forceRelay) {
    this(global.verbose, global.derpMap, forceRelay);
  }

  /** With room for {@code lanes} direct lanes, each on an event loop of its own (lane 0 shares one with the relay). */
  SessionSetup(GlobalOptions global, boolean forceRelay, int lanes) {
    this(global.verbose, global.derpMap, forceRelay, Math.max(2, lanes));
  }

  SessionSetup(boolean verbose, String derpMap, boolean forceRelay) {
    this(verbose, derpMap, forceRelay, 2);
  }

  private SessionSetup(boolean verbose, String derpMap, boolean forceRelay, int loops) {
    group = dev.derphole.derp.io.EventLoops.newGroup(loops, "derphole-io");
    Map<String, String> env = System.getenv();
    String flag = derpMap;
    boolean custom = (flag != null && !flag.isBlank()) || (env.get(DerpMapSource.ENV) != null && !env.get(DerpMapSource.ENV).isBlank());
    Reporter reporter = verbose ? Reporter.to(System.err) : Reporter.SILENT;
    ProxyNotice.check(reporter);
    dev.derphole.derp.io.EventLoops.choice().warning().ifPresent(w -> Stderr.errors().println("derphole: " + w));
    reporter.event("io", dev.derphole.derp.io.EventLoops.describe(group));
    this.options = new SessionOptions(group, reporter, () -> loadMap(flag, env), custom, forceRelay,
        "1".equals(env.get("DERPHOLE_ALLOW_LOOPBACK")), SessionOptions.DEFAULT_CLAIM_TIMEOUT);
  }

  /** Decodes a token given on the command line for {@code capability}; errors are the user's one line. */
  static Token token(String text, Capability capability) throws SessionException {
    try {
      return Token.decodeFor(text, capability, Instant.now());
    } catch (TokenException e) {
      throw new SessionException(e.getMessage());
    }
  }

  private static DerpMap loadMap(String flag, Map<String, String> env) throws SessionException {
    try {
      DerpMapSource.Resolved r = DerpMapSource.resolve(flag, env, MAP_TIMEOUT);
      // The warning may quote what the map's server sent.
      r.warning().ifPresent(w -> Stderr.errors().println("derphole: " + PeerText.printable(w)));
      return r.map();
    } catch (DerpMapException e) {
      throw new SessionException(e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
