"""The live web view (`csi-edge run --web HOST:PORT`, docs/web.md): a publisher whose server
(aiohttp, its own thread and event loop) pushes the CSI heatmap, results, health and the model
card to browsers over a WebSocket. Modules: publisher (the Publisher port), feed (the loop
thread's cheap hand-off), hub (the server thread's history and fan-out), server (routes),
auth (token, cookie, TLS), cardview (the card as shown); static/ holds the page.
"""
