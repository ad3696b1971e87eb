"""Python client of the materials-discovery portal's REST API, in the spirit of pymatgen's ``MPRester``.

from portal_client import PortalRester

with PortalRester("http://127.0.0.1:8000", token="...") as rester:
    entries = rester.search(elements=["Li", "O"], energy_above_hull=(0, 0.05))
    diagram = rester.get_phase_diagram("Fe-Li-O")
    structure = rester.get_structure("mdp-6jvpnvymbahw")
"""

from portal_client.rester import PortalError, PortalRester

__all__ = ["PortalError", "PortalRester"]
