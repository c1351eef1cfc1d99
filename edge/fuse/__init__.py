"""The fusion service (`csi-edge fuse`): several links' states -> one state per room.

Nodes (`csi-edge run --node NAME`, one link each, or `NODE/LINK` for one link of a daemon with
several sources) publish `<prefix>/<node>/state`; the service subscribes to the nodes of each
room of the site (`[fuse]` and `[[fuse.rooms]]` in the configuration), aligns their states in
time (clock skew and late messages handled and counted), and publishes per room
`<prefix>/<site>/<room>/state` (activity with pooled probabilities, presence, position),
`.../health` (live, stale and missing nodes), `.../availability` and Home Assistant discovery.

Modules, in the direction of the data: `nodes` (one node: parsing, clock, status), `room`
(alignment rounds, the fused message, health), `fusion` (the arithmetic, shared with the
offline evaluation), `discovery`, `service` (MQTT and the loop), `cli`. It is a service of the
core: no torch, no csi_edge.tools. docs/fleet.md describes the topics and the deployment shapes.
"""
