"""Ground stations and their antennas: the model (``model``) and file readers (``io``)."""

from groundlink.stations.model import Antenna, FrequencyBand, GroundStation, HorizonMask

__all__ = ["Antenna", "FrequencyBand", "GroundStation", "HorizonMask"]
