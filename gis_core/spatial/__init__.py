"""Pure spatial code: coordinates and CRSs, the grid index, lookups with the admin
hierarchy, nearby components and buildings, layer files.

Arrays and geometries in, answers out: nothing here knows about storage, cases or HTTP.
"""
