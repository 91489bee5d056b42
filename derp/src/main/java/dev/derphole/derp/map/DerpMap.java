package dev.derphole.derp.map;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The set of DERP regions a client may use: Tailscale's {@code tailcfg.DERPMap}.
 *
 * @param regions            regions by id; every key equals its region's {@link DerpRegion#regionId()}
 * @param omitDefaultRegions set by a control server that serves only its own regions (Headscale); it
 *                           changes nothing here and is kept so {@link #toJson()} round-trips
 */
public record DerpMap(SortedMap<Integer, DerpRegion> regions, boolean omitDefaultRegions) {

    public DerpMap {
        SortedMap<Integer, DerpRegion> copy = new TreeMap<>();
        for (Map.Entry<Integer, DerpRegion> entry : Objects.requireNonNull(regions, "regions").entrySet()) {
            int key = Objects.requireNonNull(entry.getKey(), "region key");
            DerpRegion region = Objects.requireNonNull(entry.getValue(), () -> "region " + key);
            if (region.regionId() != key) {
                throw new IllegalArgumentException(
                        "region key " + key + " does not match its RegionID " + region.regionId());
            }
            copy.put(key, region);
        }
        regions = Collections.unmodifiableSortedMap(copy);
    }

    /**
     * Parses a {@code tailcfg.DERPMap} JSON document as Tailscale's control server or Headscale serves it.
     * Field names match case-insensitively, unknown fields (such as {@code HomeParams}, {@code Latitude})
     * are ignored, and a region without a RegionID takes it from its key.
     *
     * @throws DerpMapException naming the region and node at fault
     */
    public static DerpMap parse(String json) throws DerpMapException {
        return DerpMapJson.parse(json);
    }

    /** This map as compact {@code tailcfg.DERPMap} JSON, leaving out the fields Go's omitempty leaves out. */
    public String toJson() {
        return DerpMapJson.write(this);
    }

    public Optional<DerpRegion> region(int id) {
        return Optional.ofNullable(regions.get(id));
    }

    /** The regions that have at least one DERP (not STUN-only) node, by ascending id. */
    public List<DerpRegion> regionsById() {
        return regions.values().stream().filter(region -> !region.derpNodes().isEmpty()).toList();
    }

    /**
     * A map of one region holding one node, for pointing a client at a single server. The node must
     * already carry {@code regionId}; the region's name is its code.
     */
    public static DerpMap singleRegion(int regionId, String regionCode, DerpNode node) {
        DerpRegion region = new DerpRegion(regionId, regionCode, regionCode, false, false, List.of(node));
        return new DerpMap(new TreeMap<>(Map.of(regionId, region)), false);
    }
}
