package dev.derphole.derp.map;

import java.util.List;
import java.util.Objects;

/**
 * A DERP region: Tailscale's {@code tailcfg.DERPRegion}. Clients keep one home region and reach peers
 * homed elsewhere through that peer's region.
 *
 * @param regionId        positive id; Tailscale uses 1..899, 900..999 are left for self-hosted servers
 * @param regionCode      short code such as {@code "nyc"}
 * @param regionName      human name such as {@code "New York City"}
 * @param avoid           deprecated upstream: do not pick this region as home
 * @param noMeasureNoHome do not STUN-probe this region or choose it as home; still reachable for peers
 * @param nodes           the servers, in priority order: clients try them first to last
 */
public record DerpRegion(int regionId, String regionCode, String regionName, boolean avoid, boolean noMeasureNoHome,
                         List<DerpNode> nodes) {

    public DerpRegion {
        regionCode = Objects.requireNonNullElse(regionCode, "");
        regionName = Objects.requireNonNullElse(regionName, "");
        nodes = List.copyOf(Objects.requireNonNull(nodes, "nodes"));
        if (regionId <= 0) {
            throw new IllegalArgumentException("region " + regionId + ": RegionID must be positive");
        }
        for (DerpNode node : nodes) {
            if (node.regionId() != regionId) {
                throw new IllegalArgumentException(
                        DerpNode.label(node.regionId(), node.name()) + " is listed in region " + regionId);
            }
        }
    }

    /** The nodes that speak DERP (every node but the STUN-only ones), in priority order. */
    public List<DerpNode> derpNodes() {
        return nodes.stream().filter(node -> !node.stunOnly()).toList();
    }
}
