"""Unsupervised activity discovery (`csi-edge discover`): Invariant Information Clustering.

Data flows one way: training SPECs (`csi_edge.tools.train.specs`) -> every window, labelled or
not (`windows`) -> pairs that share the activity (`pairs`: augmentation, temporal neighbour) ->
IIC on the compact training network's trunk (`iic`) -> assignments, metrics against labels when
there are any, k-means on the same windows (`metrics`) -> files and plots (`report`, `plots`)
-> naming clusters, merging over-clusters, ONNX export or labels (`naming`). See docs/discover.md.
"""
