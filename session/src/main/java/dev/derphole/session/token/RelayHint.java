package dev.derphole.session.token;

import java.util.Objects;
import java.util.Optional;

/**
 * Where the issuer waits for claims.
 *
 * @param regionId the DERP region the issuer is connected to, from the DERP map; 0-65535, 0 when
 *     there is none (then {@code custom} says where to go)
 * @param custom a relay that is not on the public map, when the issuer uses one
 */
public record RelayHint(int regionId, Optional<CustomRelay> custom) {
  /** Largest region id the token can carry (two bytes). */
  public static final int MAX_REGION_ID = 0xFFFF;

  /** Checks the region id range. */
  public RelayHint {
    Objects.requireNonNull(custom, "custom");
    if (regionId < 0 || regionId > MAX_REGION_ID) {
      throw new IllegalArgumentException(
          "DERP region id must be 0-" + MAX_REGION_ID + ", got " + regionId);
    }
  }

  /** A region from the public DERP map. */
  public static RelayHint region(int regionId) {
    return new RelayHint(regionId, Optional.empty());
  }

  /** A relay that is not on the public map, with the region id it has in our own map (or 0). */
  public static RelayHint custom(int regionId, CustomRelay relay) {
    return new RelayHint(regionId, Optional.of(relay));
  }
}
