/**
 * The DERP map: which relay regions exist and how to reach their servers, in Tailscale's
 * {@code tailcfg.DERPMap} JSON shape.
 *
 * <pre>
 * DerpMap ── regions by id ──▶ DerpRegion (1 "nyc") ── nodes, priority order ──▶ DerpNode ("1f",
 *                                                                                   derp1f.tailscale.com)
 * </pre>
 *
 * <ul>
 *   <li>{@link dev.derphole.derp.map.DerpMap}, {@link dev.derphole.derp.map.DerpRegion} and
 *       {@link dev.derphole.derp.map.DerpNode} are immutable records that check themselves when built.
 *       {@code DerpMap.parse} reads the JSON as Go does (names case-insensitive, unknown fields such as
 *       {@code HomeParams} ignored) and {@code toJson} writes it back with Go's field names and omitempty
 *       rules, so a map survives the round trip.</li>
 *   <li>A node's zero values carry Go's meaning: DERP port 443, STUN port 3478 ({@code -1}: none), and
 *       an empty {@code IPv4}/{@code IPv6} means "look the HostName up". {@code DerpNode.dialAddresses}
 *       never sends a literal address to DNS.</li>
 *   <li>{@link dev.derphole.derp.map.DerpMapSource} loads a map from a URL or file and picks one: the
 *       flag, then {@code $DERPHOLE_DERP_MAP}, then Tailscale's public map
 *       ({@value dev.derphole.derp.map.DerpMapSource#PUBLIC_MAP_URL}).</li>
 * </ul>
 *
 * <h2>The bundled map</h2>
 *
 * {@code default-derp-map.json} in this package is a hand-kept snapshot of the public map's regions and node
 * host names. It is used only when the public map cannot be fetched, and may be out of date:
 * Tailscale adds, renumbers and retires nodes. It deliberately leaves {@code IPv4}/{@code IPv6} empty so
 * that clients look the host names up in DNS instead of dialling addresses that may have moved.
 */
package dev.derphole.derp.map;
