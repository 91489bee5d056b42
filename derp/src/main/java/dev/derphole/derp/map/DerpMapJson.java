package dev.derphole.derp.map;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reads and writes {@code tailcfg.DERPMap} JSON the way Go's {@code encoding/json} does for that struct.
 *
 * <pre>
 * {"Regions": {"1": {"RegionID": 1, "RegionCode": "nyc", "RegionName": "New York City",
 *                    "Nodes": [{"Name": "1f", "RegionID": 1, "HostName": "derp1f.tailscale.com",
 *                               "IPv4": "…", "IPv6": "…", "STUNPort": 0, "DERPPort": 0, …}]}},
 *  "HomeParams": {…},            ignored here
 *  "omitDefaultRegions": true}   optional
 * </pre>
 *
 * Reading walks a Jackson tree rather than binding classes so that names match case-insensitively (as in
 * Go, and as Headscale's lowercase configs need), unknown fields are skipped, JSON {@code null} counts as
 * absent, and every error names the region and node it is about.
 */
final class DerpMapJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private DerpMapJson() {}

    static DerpMap parse(String json) throws DerpMapException {
        Objects.requireNonNull(json, "json");
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new DerpMapException("DERP map is not valid JSON" + at(e.getLocation()) + ": "
                    + oneLine(e.getOriginalMessage()), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new DerpMapException("DERP map is empty");
        }
        Fields map = Fields.of(root, "DERP map");
        SortedMap<Integer, DerpRegion> regions = new TreeMap<>();
        JsonNode regionsJson = map.get("Regions");
        if (regionsJson != null) {
            if (!regionsJson.isObject()) {
                throw new DerpMapException(
                        "DERP map: Regions must be an object keyed by region id, got " + shape(regionsJson));
            }
            for (Map.Entry<String, JsonNode> entry : regionsJson.properties()) {
                if (entry.getValue().isNull()) {
                    continue; // Go leaves a nil *DERPRegion; there is nothing to use
                }
                DerpRegion region = region(entry.getKey(), entry.getValue());
                if (regions.put(region.regionId(), region) != null) {
                    throw new DerpMapException("region " + region.regionId() + " appears twice in Regions");
                }
            }
        }
        return new DerpMap(regions, map.bool("omitDefaultRegions"));
    }

    private static DerpRegion region(String key, JsonNode json) throws DerpMapException {
        int keyId;
        try {
            keyId = Integer.parseInt(key);
        } catch (NumberFormatException e) {
            throw new DerpMapException("region key \"" + key + "\" is not a region id");
        }
        Fields region = Fields.of(json, "region " + key);
        int regionId = region.integer("RegionID");
        if (regionId == 0) {
            regionId = keyId;
        } else if (regionId != keyId) {
            throw new DerpMapException("region key " + key + " does not match its RegionID " + regionId);
        }
        if (regionId <= 0) {
            throw new DerpMapException("region " + key + ": RegionID must be positive");
        }
        region.where = "region " + regionId;
        List<DerpNode> nodes = new ArrayList<>();
        JsonNode nodesJson = region.get("Nodes");
        if (nodesJson != null) {
            if (!nodesJson.isArray()) {
                throw new DerpMapException(region.where + ": Nodes must be an array, got " + shape(nodesJson));
            }
            for (int i = 0; i < nodesJson.size(); i++) {
                nodes.add(node(regionId, region.where + " Nodes[" + i + "]", nodesJson.get(i)));
            }
        }
        try {
            return new DerpRegion(regionId, region.string("RegionCode"), region.string("RegionName"),
                    region.bool("Avoid"), region.bool("NoMeasureNoHome"), nodes);
        } catch (IllegalArgumentException e) {
            throw new DerpMapException(e.getMessage(), e);
        }
    }

    private static DerpNode node(int regionId, String where, JsonNode json) throws DerpMapException {
        Fields node = Fields.of(json, where);
        String name = node.string("Name");
        node.where = DerpNode.label(regionId, name);
        int nodeRegionId = node.integer("RegionID");
        if (nodeRegionId != 0 && nodeRegionId != regionId) {
            throw new DerpMapException(node.where + ": RegionID " + nodeRegionId + " does not match its region");
        }
        try {
            return new DerpNode(name, regionId, node.string("HostName"), node.string("CertName"),
                    node.string("IPv4"), node.string("IPv6"), node.integer("STUNPort"), node.bool("STUNOnly"),
                    node.integer("DERPPort"), node.bool("InsecureForTests"), node.bool("CanPort80"),
                    node.bool("PlainHTTP"));
        } catch (IllegalArgumentException e) {
            throw new DerpMapException(e.getMessage(), e);
        }
    }

    static String write(DerpMap map) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode regions = root.putObject("Regions");
        for (DerpRegion region : map.regions().values()) {
            ObjectNode r = regions.putObject(Integer.toString(region.regionId()));
            r.put("RegionID", region.regionId());
            r.put("RegionCode", region.regionCode());
            r.put("RegionName", region.regionName());
            if (region.avoid()) {
                r.put("Avoid", true);
            }
            if (region.noMeasureNoHome()) {
                r.put("NoMeasureNoHome", true);
            }
            ArrayNode nodes = r.putArray("Nodes");
            for (DerpNode node : region.nodes()) {
                writeNode(nodes.addObject(), node);
            }
        }
        if (map.omitDefaultRegions()) {
            root.put("omitDefaultRegions", true);
        }
        try {
            return MAPPER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("writing a JSON tree to a string cannot fail", e);
        }
    }

    /** Name, RegionID and HostName are always written; the rest are omitempty in Go. */
    private static void writeNode(ObjectNode n, DerpNode node) {
        n.put("Name", node.name());
        n.put("RegionID", node.regionId());
        n.put("HostName", node.hostName());
        putNonEmpty(n, "CertName", node.certName());
        putNonEmpty(n, "IPv4", node.ipv4());
        putNonEmpty(n, "IPv6", node.ipv6());
        if (node.stunPort() != 0) {
            n.put("STUNPort", node.stunPort());
        }
        if (node.stunOnly()) {
            n.put("STUNOnly", true);
        }
        if (node.derpPort() != 0) {
            n.put("DERPPort", node.derpPort());
        }
        if (node.insecureForTests()) {
            n.put("InsecureForTests", true);
        }
        if (node.plainHttp()) {
            n.put("PlainHTTP", true);
        }
        if (node.canPort80()) {
            n.put("CanPort80", true);
        }
    }

    private static void putNonEmpty(ObjectNode n, String field, String value) {
        if (!value.isEmpty()) {
            n.put(field, value);
        }
    }

    private static String at(JsonLocation location) {
        if (location == null || location.getLineNr() < 0) {
            return "";
        }
        return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    /** A short description of a JSON value for messages: its type, and its text when that is short. */
    private static String shape(JsonNode value) {
        if (value.isNull()) {
            return "null";
        }
        String type = value.getNodeType().name().toLowerCase(Locale.ROOT);
        String text = value.toString();
        return text.length() <= 40 ? type + " " + text : type;
    }

    /** The fields of one JSON object, found case-insensitively, each read as its Go type. */
    private static final class Fields {
        private final Map<String, JsonNode> byLowerName = new HashMap<>();
        /** Names the object in messages; narrowed once the object's own id or name is known. */
        String where;

        private Fields(String where) {
            this.where = where;
        }

        static Fields of(JsonNode json, String where) throws DerpMapException {
            if (!json.isObject()) {
                throw new DerpMapException(where + " must be a JSON object, got " + shape(json));
            }
            Fields fields = new Fields(where);
            for (Map.Entry<String, JsonNode> entry : json.properties()) {
                if (!entry.getValue().isNull()) {
                    fields.byLowerName.put(entry.getKey().toLowerCase(Locale.ROOT), entry.getValue());
                }
            }
            return fields;
        }

        JsonNode get(String name) {
            return byLowerName.get(name.toLowerCase(Locale.ROOT));
        }

        String string(String name) throws DerpMapException {
            JsonNode value = get(name);
            if (value == null) {
                return "";
            }
            if (!value.isTextual()) {
                throw new DerpMapException(where + ": " + name + " must be a string, got " + shape(value));
            }
            return value.textValue();
        }

        boolean bool(String name) throws DerpMapException {
            JsonNode value = get(name);
            if (value == null) {
                return false;
            }
            if (!value.isBoolean()) {
                throw new DerpMapException(where + ": " + name + " must be true or false, got " + shape(value));
            }
            return value.booleanValue();
        }

        int integer(String name) throws DerpMapException {
            JsonNode value = get(name);
            if (value == null) {
                return 0;
            }
            if (!value.isIntegralNumber()) {
                throw new DerpMapException(where + ": " + name + " must be a whole number, got " + shape(value));
            }
            if (!value.canConvertToInt()) {
                throw new DerpMapException(where + ": " + name + " " + value.asText() + " is out of range");
            }
            return value.intValue();
        }
    }
}
