package dev.derphole.derp.client;

import io.netty.channel.ChannelHandler;
import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.handler.proxy.ProxyConnectException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One DERP dial through an HTTP proxy: the channel connects to the proxy, Netty's
 * {@link HttpProxyHandler} sends {@code CONNECT host:port} (with Basic credentials when the
 * proxy URL has them) and holds back everything the pipeline writes (the TLS ClientHello, the
 * DERP upgrade) until the proxy answers 200. The relay's name goes to the proxy unresolved, as Go
 * and curl send it: the proxy resolves it, which is the point where only the proxy has DNS.
 *
 * <pre>
 *  TCP to proxy ── CONNECT relay:443 HTTP/1.1 ── 200 ── [TLS, SNI relay] ── GET /derp Upgrade: DERP ...
 * </pre>
 */
final class ProxyDial {
  private final ProxyConfig.Proxy proxy;
  private final InetSocketAddress target;

  private ProxyDial(ProxyConfig.Proxy proxy, InetSocketAddress target) {
    this.proxy = proxy;
    this.target = target;
  }

  /**
   * The dial for {@code endpoint} under this process's proxy environment, or null for a direct one.
   *
   * @throws IOException when a proxy variable cannot be used (the CLI checks them at start)
   */
  static ProxyDial forEndpoint(DerpEndpoint endpoint) throws IOException {
    ProxyConfig config;
    try {
      config = ProxyConfig.environment();
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    return config.forTarget(endpoint.tls(), endpoint.hostName(), endpoint.port())
        .map(p -> new ProxyDial(p, InetSocketAddress.createUnresolved(endpoint.hostName(), endpoint.port())))
        .orElse(null);
  }

  /**
   * The user's words for a proxy that failed the CONNECT ({@code the HTTP proxy answered CONNECT
   * with 407 Proxy Authentication Required}), when {@code failure} or one of its causes is
   * Netty's {@link ProxyConnectException}; otherwise null.
   */
  static String refusal(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ProxyConnectException) {
        String m = t.getMessage() == null ? "" : t.getMessage();
        int status = m.indexOf("status: ");
        if (status >= 0) {
          return "the HTTP proxy answered CONNECT with " + m.substring(status + "status: ".length());
        }
        int last = m.lastIndexOf(", ");
        return "the HTTP proxy failed the CONNECT: " + (last >= 0 ? m.substring(last + 2) : m);
      }
    }
    return null;
  }

  /** What the channel "connects" to: the relay's name and port, which the proxy handler intercepts. */
  InetSocketAddress target() {
    return target;
  }

  /** A fresh handler for one channel, first in its pipeline. Resolves the proxy's own name. */
  ChannelHandler handler(long budgetNanos) {
    InetSocketAddress at = new InetSocketAddress(proxy.host(), proxy.port());
    HttpProxyHandler h = proxy.hasCredentials()
        ? new HttpProxyHandler(at, proxy.user(), proxy.password())
        : new HttpProxyHandler(at);
    h.setConnectTimeoutMillis(Math.max(1, TimeUnit.NANOSECONDS.toMillis(budgetNanos)));
    return h;
  }
}
