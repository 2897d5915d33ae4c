"""Downlink budget from pass geometry: path loss, C/N0, Eb/N0, margin and data volume.

All functions are vectorised: slant range (km) and frequency (Hz) are
scalars or numpy arrays that broadcast together, and every result has their
broadcast shape. Everything is in decibels except where a name says
otherwise (``_bps``, ``_hz``, ``_km``, ``_s``, ``_bytes``).

The budget, for a downlink (spacecraft transmits, ground receives)::

    FSPL [dB]      = 20 log10(4 pi d f / c)                 d in m, f in Hz, c in m/s
    C/N0 [dB-Hz]   = EIRP [dBW] - FSPL - L [dB] + G/T [dB/K] - 10 log10(k)
    Eb/N0 [dB]     = C/N0 - 10 log10(R [bit/s])
    margin [dB]    = Eb/N0 - (Eb/N0)required

with k Boltzmann's constant, 10 log10(k) = -228.6 dBW/K/Hz, and L the sum
of the other losses (atmospheric, polarisation, pointing, other), constants
in dB carried by :class:`GroundReceiver`. The formulas and defaults are in
``docs/contacts.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from groundlink.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]

#: Speed of light in vacuum, m/s (exact, SI).
SPEED_OF_LIGHT_M_S = 299_792_458.0
#: Boltzmann's constant, J/K (exact, SI 2019).
BOLTZMANN_J_K = 1.380649e-23
#: 10 log10(k): -228.5991... dBW/(K·Hz), the "-228.6" of link budgets.
BOLTZMANN_DBW_K_HZ = 10.0 * math.log10(BOLTZMANN_J_K)

#: Eb/N0 needed by default: BPSK/QPSK with the CCSDS rate-1/2, K=7 convolutional code and
#: soft-decision Viterbi decoding at a bit error rate of 1e-5 (about 4.4 dB). Concatenated
#: with Reed-Solomon (255,223) the same BER needs about 2.5 dB, so 4.4 dB is conservative.
DEFAULT_REQUIRED_EBN0_DB = 4.4
#: Clear-sky gaseous absorption at low elevation for S/X band, dB (no rain).
DEFAULT_ATMOSPHERIC_LOSS_DB = 0.5
#: Polarisation mismatch between circularly polarised antennas, dB.
DEFAULT_POLARIZATION_LOSS_DB = 0.3
#: Pointing loss of the tracking ground antenna, dB.
DEFAULT_POINTING_LOSS_DB = 0.3


def _require_finite(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(name, value, "a finite number")


def _require_loss(name: str, value: float) -> None:
    _require_finite(name, value)
    if value < 0:
        raise InvalidInput(name, value, "a loss in dB >= 0 (losses are positive numbers)")


def _require_rate(name: str, value: float) -> None:
    _require_finite(name, value)
    if value <= 0:
        raise InvalidInput(name, value, "a positive data rate in bit/s")


@dataclass(frozen=True, slots=True)
class SpacecraftTransmitter:
    """A fixed-rate downlink transmitter.

    ``eirp_dbw``: equivalent isotropic radiated power towards the station,
    dBW (transmit power + antenna gain - line losses). ``data_rate_bps``:
    information bit rate, bit/s. ``required_ebn0_db``: Eb/N0 the
    modulation and coding need at the target bit error rate, dB.
    """

    eirp_dbw: float
    data_rate_bps: float
    required_ebn0_db: float = DEFAULT_REQUIRED_EBN0_DB

    def __post_init__(self) -> None:
        _require_finite("eirp_dbw", self.eirp_dbw)
        _require_rate("data_rate_bps", self.data_rate_bps)
        _require_finite("required_ebn0_db", self.required_ebn0_db)


@dataclass(frozen=True, slots=True)
class GroundReceiver:
    """The receiving ground antenna and the losses of the path to it.

    ``g_over_t_db_k``: figure of merit G/T, dB/K. The losses are positive
    dB values subtracted from the budget (defaults: the ``DEFAULT_*_LOSS_DB``
    constants of this module); :attr:`losses_db` is their sum.
    """

    g_over_t_db_k: float
    atmospheric_loss_db: float = DEFAULT_ATMOSPHERIC_LOSS_DB
    polarization_loss_db: float = DEFAULT_POLARIZATION_LOSS_DB
    pointing_loss_db: float = DEFAULT_POINTING_LOSS_DB
    other_losses_db: float = 0.0

    def __post_init__(self) -> None:
        _require_finite("g_over_t_db_k", self.g_over_t_db_k)
        for name in (
            "atmospheric_loss_db",
            "polarization_loss_db",
            "pointing_loss_db",
            "other_losses_db",
        ):
            _require_loss(name, getattr(self, name))

    @property
    def losses_db(self) -> float:
        """All losses besides free-space path loss, dB."""
        return (
            self.atmospheric_loss_db
            + self.polarization_loss_db
            + self.pointing_loss_db
            + self.other_losses_db
        )


@dataclass(frozen=True, slots=True)
class Modcod:
    """One modulation and coding an adaptive link can switch to.

    ``data_rate_bps``: information bit rate with it, bit/s;
    ``required_ebn0_db``: the Eb/N0 it needs, dB.
    """

    name: str
    data_rate_bps: float
    required_ebn0_db: float

    def __post_init__(self) -> None:
        _require_rate("data_rate_bps", self.data_rate_bps)
        _require_finite("required_ebn0_db", self.required_ebn0_db)


@dataclass(frozen=True)
class LinkBudget:
    """A downlink budget at every sample: each array has the broadcast shape of range and frequency.

    ``path_loss_db`` (free space), ``cn0_dbhz`` (C/N0, dB-Hz), ``ebn0_db``
    (at the transmitter's data rate), ``margin_db`` (Eb/N0 minus required).
    """

    path_loss_db: FloatArray
    cn0_dbhz: FloatArray
    ebn0_db: FloatArray
    margin_db: FloatArray


def _positive_array(name: str, value: npt.ArrayLike, expected: str) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    bad = ~(np.isfinite(array) & (array > 0))
    if bad.any():
        raise InvalidInput(name, array[bad].ravel()[0].item(), expected)
    return array


def free_space_path_loss_db(range_km: npt.ArrayLike, frequency_hz: npt.ArrayLike) -> FloatArray:
    """Free-space path loss 20 log10(4π d f / c), dB, for slant range in km and frequency in Hz.

    Equivalent to 20 log10(d_km) + 20 log10(f_MHz) + 32.45. Arguments
    broadcast; the result has their broadcast shape.

    Raises:
        InvalidInput: for a range or frequency that is not positive and finite.
    """
    distance_m = 1000.0 * _positive_array("range_km", range_km, "positive slant ranges in km")
    frequency = _positive_array("frequency_hz", frequency_hz, "positive frequencies in Hz")
    loss: FloatArray = 20.0 * np.log10(4.0 * math.pi * distance_m * frequency / SPEED_OF_LIGHT_M_S)
    return loss


def carrier_to_noise_density_dbhz(
    range_km: npt.ArrayLike,
    frequency_hz: npt.ArrayLike,
    *,
    eirp_dbw: float,
    g_over_t_db_k: float,
    losses_db: float = 0.0,
) -> FloatArray:
    """Received C/N0 in dB-Hz: EIRP - FSPL - losses + G/T - 10 log10(k).

    ``eirp_dbw`` in dBW, ``g_over_t_db_k`` in dB/K, ``losses_db`` (all
    losses other than free space) in dB; range in km and frequency in Hz
    broadcast, and the result has their shape.
    """
    path_loss = free_space_path_loss_db(range_km, frequency_hz)
    cn0: FloatArray = eirp_dbw - path_loss - losses_db + g_over_t_db_k - BOLTZMANN_DBW_K_HZ
    return cn0


def ebn0_db(cn0_dbhz: npt.ArrayLike, data_rate_bps: npt.ArrayLike) -> FloatArray:
    """Eb/N0 in dB from C/N0 (dB-Hz) at an information rate (bit/s): C/N0 - 10 log10(R).

    Raises:
        InvalidInput: for a rate that is not positive and finite.
    """
    rate = _positive_array("data_rate_bps", data_rate_bps, "positive data rates in bit/s")
    result: FloatArray = np.asarray(cn0_dbhz, dtype=np.float64) - 10.0 * np.log10(rate)
    return result


def downlink_budget(
    range_km: npt.ArrayLike,
    frequency_hz: npt.ArrayLike,
    transmitter: SpacecraftTransmitter,
    receiver: GroundReceiver,
) -> LinkBudget:
    """The whole budget of a fixed-rate downlink at every sample (range km, frequency Hz)."""
    path_loss = free_space_path_loss_db(range_km, frequency_hz)
    cn0: FloatArray = (
        transmitter.eirp_dbw
        - path_loss
        - receiver.losses_db
        + receiver.g_over_t_db_k
        - BOLTZMANN_DBW_K_HZ
    )
    ebn0 = ebn0_db(cn0, transmitter.data_rate_bps)
    return LinkBudget(path_loss, cn0, ebn0, ebn0 - transmitter.required_ebn0_db)


def link_margin_db(
    range_km: npt.ArrayLike,
    frequency_hz: npt.ArrayLike,
    transmitter: SpacecraftTransmitter,
    receiver: GroundReceiver,
) -> FloatArray:
    """Link margin in dB (Eb/N0 minus required) at every sample; the link closes where >= 0."""
    return downlink_budget(range_km, frequency_hz, transmitter, receiver).margin_db


def achievable_rate_bps(
    range_km: npt.ArrayLike,
    frequency_hz: npt.ArrayLike,
    transmitter: SpacecraftTransmitter,
    receiver: GroundReceiver,
    *,
    modcods: Sequence[Modcod] | None = None,
    min_margin_db: float = 0.0,
) -> FloatArray:
    """Information rate in bit/s the link delivers at every sample, 0 where it does not close.

    Fixed rate (``modcods`` None): the transmitter's rate where its margin
    is at least ``min_margin_db``. Adaptive (``modcods`` given, the
    transmitter's rate and required Eb/N0 then unused): the highest rate
    among the modcods whose own margin is at least ``min_margin_db``.
    """
    _require_finite("min_margin_db", min_margin_db)
    if modcods is None:
        margin = link_margin_db(range_km, frequency_hz, transmitter, receiver)
        rate: FloatArray = np.where(margin >= min_margin_db, transmitter.data_rate_bps, 0.0)
        return rate
    if len(modcods) == 0:
        raise InvalidInput("modcods", "[]", "at least one modcod, or None for a fixed rate")
    path_loss = free_space_path_loss_db(range_km, frequency_hz)
    cn0 = (
        transmitter.eirp_dbw
        - path_loss
        - receiver.losses_db
        + receiver.g_over_t_db_k
        - BOLTZMANN_DBW_K_HZ
    )
    rates = np.array([m.data_rate_bps for m in modcods], dtype=np.float64)
    required = np.array([m.required_ebn0_db for m in modcods], dtype=np.float64)
    shape = (len(modcods),) + (1,) * cn0.ndim
    margins = cn0[None, ...] - 10.0 * np.log10(rates).reshape(shape) - required.reshape(shape)
    closing = np.where(margins >= min_margin_db, rates.reshape(shape), 0.0)
    best: FloatArray = closing.max(axis=0)
    return best


def expected_volume_bytes(
    range_km: npt.ArrayLike,
    step_s: float | None,
    frequency_hz: npt.ArrayLike,
    transmitter: SpacecraftTransmitter,
    receiver: GroundReceiver,
    *,
    times_s: npt.ArrayLike | None = None,
    modcods: Sequence[Modcod] | None = None,
    min_margin_db: float = 0.0,
) -> float:
    """Bytes a pass is expected to deliver: the data rate integrated over the time the link closes.

    ``range_km`` is the (T,) slant range over the pass (e.g.
    ``Track.range_km``), sampled every ``step_s`` seconds, or at the
    (T,) instants ``times_s`` (seconds, any origin, increasing: e.g.
    ``Track.unix_s``) when ``step_s`` is None. ``frequency_hz`` is a scalar
    or (T,). The rate at each sample is :func:`achievable_rate_bps` (fixed
    or adaptive), and the integral is the trapezoidal rule over the samples:
    a switch between closing and not closing counts as half-way between two
    samples. Fewer than two samples deliver nothing.

    Raises:
        InvalidInput: for both or neither of ``step_s`` and ``times_s``, a
            non-positive step, times that do not increase, or shapes that
            do not match.
    """
    ranges = np.asarray(range_km, dtype=np.float64)
    if ranges.ndim != 1:
        raise InvalidInput("range_km", f"shape {ranges.shape}", "a 1-D array over time")
    count = ranges.shape[0]
    if (step_s is None) == (times_s is None):
        raise InvalidInput("step_s", step_s, "either step_s or times_s, not both or neither")
    if times_s is None:
        assert step_s is not None
        _require_finite("step_s", step_s)
        if step_s <= 0:
            raise InvalidInput("step_s", step_s, "a positive number of seconds")
        intervals = np.full(max(count - 1, 0), float(step_s))
    else:
        times = np.asarray(times_s, dtype=np.float64)
        if times.shape != (count,):
            raise InvalidInput("times_s", f"shape {times.shape}", f"shape ({count},) like range_km")
        intervals = np.diff(times)
        if not (np.isfinite(intervals) & (intervals > 0)).all():
            raise InvalidInput("times_s", "not increasing", "strictly increasing finite seconds")
    frequency = np.asarray(frequency_hz, dtype=np.float64)
    if frequency.ndim > 1 or (frequency.ndim == 1 and frequency.shape != (count,)):
        raise InvalidInput("frequency_hz", f"shape {frequency.shape}", f"a scalar or ({count},)")
    if count < 2:
        return 0.0
    rate = achievable_rate_bps(
        ranges, frequency, transmitter, receiver, modcods=modcods, min_margin_db=min_margin_db
    )
    bits = float(np.sum(intervals * (rate[:-1] + rate[1:]) / 2.0))
    return bits / 8.0
