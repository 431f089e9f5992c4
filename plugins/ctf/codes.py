"""The DfE code sets a CTF's SEN data uses (school census "SEN provision" and "SEN type").

Kept here rather than imported from core: the file format is this plugin's business, and a
code the DfE adds reaches the plugin first.
"""

#: N: no special educational need; K: SEN support; E: education, health and care plan
#: (the A, P and S codes of the 2001 Code of Practice were retired in 2015).
PROVISIONS = frozenset({"N", "K", "E"})

NEED_TYPES = frozenset({"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "NSA"})
