package dev.derphole.cli;

import dev.derphole.derp.client.ProxyConfig;
import dev.derphole.session.Reporter;

/**
 * Checks the proxy variables (HTTPS_PROXY, ALL_PROXY, NO_PROXY, ...) before a command does
 * anything, and says under {@code --verbose} which proxy the relay connections and the DERP map
 * fetch use. A variable that cannot be used is a usage error: one line, exit 2.
 */
final class ProxyNotice {
  private ProxyNotice() {}

  static ProxyConfig check(Reporter reporter) {
    ProxyConfig config;
    try {
      config = ProxyConfig.environment();
    } catch (IllegalArgumentException e) {
      throw new Launcher.UsageException(e.getMessage());
    }
    if (!config.isEmpty()) {
      reporter.event("proxy", config.toString()); // the password never: Proxy.toString leaves it out
    }
    return config;
  }
}
