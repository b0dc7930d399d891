"""The reference BMS's CAN layer: decode requests with E2E checks, send reports on schedule.

Everything is driven by dbc/bms.dbc: frame layouts through cantools, periods from
GenMsgCycleTime. For a multiplexed report, each multiplexer value is sent once per period,
spread evenly over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import can
from cantools.database.can import Database, Message

from hil import e2e
from hil.sim.bms.firmware import FAULT_NAMES, ReferenceBms, State

Values = dict[str, float]

PROTOCOL_VERSION = 1
E2E_TX = {"BMS_Status", "BMS_Faults"}
CELLS_PER_FRAME = 4
TEMPERATURES_PER_FRAME = 4
BALANCING_PER_FRAME = 48


@dataclass
class _Scheduled:
    message: Message
    interval: float
    next_due: float
    build: Callable[[int], Values]
    mux_count: int = 1
    mux_next: int = 0
    counter: int = 0


class BmsCanIo:
    """Turns frames into calls on the firmware, and firmware state into frames."""

    def __init__(self, db: Database, bms: ReferenceBms, now: float) -> None:
        self.db = db
        self.bms = bms
        self.vcu = db.get_message_by_name("VCU_Request")
        self.ivt = db.get_message_by_name("IVT_Msg_Result_I")
        self._vcu_counter: int | None = None
        self._vcu_discarded = 0  # frames dropped for their CRC since the last counter check
        self._ivt_counter: int | None = None
        self.rx_errors = 0
        self._ranges = {m.name: {s.name: (s.minimum, s.maximum) for s in m.signals}
                        for m in db.messages}
        p = bms.p
        plan: list[tuple[str, Callable[[int], Values], int]] = [
            ("BMS_Status", self._status, 1),
            ("BMS_Faults", self._faults, 1),
            ("BMS_Pack", self._pack, 1),
            ("BMS_Limits", self._limits, 1),
            ("BMS_CellSummary", self._cell_summary, 1),
            ("BMS_TemperatureSummary", self._temperature_summary, 1),
            ("BMS_CellVoltages", self._cell_voltages, -(-p.cells // CELLS_PER_FRAME)),
            ("BMS_Temperatures", self._temperatures, -(-p.temperatures // TEMPERATURES_PER_FRAME)),
            ("BMS_Balancing", self._balancing, -(-p.cells // BALANCING_PER_FRAME)),
            ("BMS_Version", self._version, 1),
        ]
        self.schedule: list[_Scheduled] = []
        for i, (name, build, mux_count) in enumerate(plan):
            msg = db.get_message_by_name(name)
            period = (msg.cycle_time or 100) / 1000.0
            if name == "BMS_Status" and "slow_status" in bms.flags:
                period = 0.080
            interval = period / mux_count
            self.schedule.append(_Scheduled(msg, interval, now + (i * 0.0013) % interval,
                                            build, mux_count))

    # --- receive --------------------------------------------------------------------------
    def receive(self, frame: can.Message, now: float) -> None:
        if frame.is_error_frame or frame.is_remote_frame:
            return
        if frame.arbitration_id == self.vcu.frame_id and not frame.is_extended_id:
            self._receive_vcu(frame, now)
        elif (frame.arbitration_id == self.ivt.frame_id and not frame.is_extended_id
              and self.bms.p.current_sensor.kind == "ivt_can"):
            self._receive_ivt(frame, now)

    def _receive_vcu(self, frame: can.Message, now: float) -> None:
        data = bytes(frame.data)
        checked = "e2e_ignored" not in self.bms.flags
        if len(data) != self.vcu.length or (checked and not e2e.crc_ok(frame.arbitration_id,
                                                                       data)):
            self.rx_errors += 1
            self._vcu_discarded += 1
            self.bms.on_bad_frame()
            return
        counter = e2e.counter_of(data)
        previous, self._vcu_counter = self._vcu_counter, counter
        # a frame dropped for its CRC may have used up a counter value (or be sent again):
        # it is one error, not a second one for the counter jump it leaves behind
        discarded, self._vcu_discarded = self._vcu_discarded, 0
        if checked and not any(
                e2e.counter_ok(None if previous is None else previous + lost, counter)
                for lost in range(discarded + 1)):
            self.rx_errors += 1
            self.bms.on_bad_frame()
            return
        values = self.vcu.decode(data, decode_choices=False)
        self.bms.on_vcu_request(int(values["VCU_StateRequest"]),
                                bool(values["VCU_FaultReset"]), now)

    def _receive_ivt(self, frame: can.Message, now: float) -> None:
        data = bytes(frame.data)
        if len(data) != self.ivt.length:
            self.rx_errors += 1
            return
        values = self.ivt.decode(data, decode_choices=False)
        if int(values["IVT_ID_Result_I"]) != 0:
            return
        counter = int(values["IVT_MsgCount_Result_I"])
        previous, self._ivt_counter = self._ivt_counter, counter
        if not e2e.counter_ok(previous, counter):
            self.rx_errors += 1
            self.bms.on_bad_frame()
            return
        errors = (values["IVT_Result_I_OCS"] or values["IVT_Result_I_Channel_Error"]
                  or values["IVT_Result_I_Measurement_Error"]
                  or values["IVT_Result_I_System_Error"])
        if errors:
            return  # a sensor reporting an error is not a valid measurement: timeout follows
        self.bms.on_current(float(values["IVT_Result_I"]) / 1000.0, now)

    # --- transmit -------------------------------------------------------------------------
    def due_frames(self, now: float) -> list[can.Message]:
        frames = []
        for item in self.schedule:
            if now < item.next_due:
                continue
            item.next_due += item.interval
            if item.next_due < now:  # we fell behind: do not send a burst to catch up
                item.next_due = now + item.interval
            mux = item.mux_next
            item.mux_next = (mux + 1) % item.mux_count
            frames.append(self._encode(item, item.build(mux)))
        return frames

    def _encode(self, item: _Scheduled, values: Values) -> can.Message:
        msg = item.message
        ranges = self._ranges[msg.name]
        clamped = {}
        for name, value in values.items():
            lo, hi = ranges[name]
            if value != value:  # NaN: report the lowest value the signal can carry
                value = lo if lo is not None else 0.0
            if lo is not None and value < lo:
                value = lo
            if hi is not None and value > hi:
                value = hi
            clamped[name] = value
        data = msg.encode(clamped, scaling=True, padding=False, strict=False)
        if msg.name in E2E_TX:
            data = e2e.protect(msg.frame_id, data, item.counter)
            item.counter = (item.counter + 1) % e2e.COUNTER_MODULO
        return can.Message(arbitration_id=msg.frame_id, data=data, is_extended_id=False)

    # --- report contents ------------------------------------------------------------------
    def _status(self, _mux: int) -> Values:
        bms, out = self.bms, self.bms.outputs
        return {
            "BMS_Status_CRC": 0, "BMS_Status_Counter": 0,
            "BMS_State": int(bms.state),
            "ContactorMainPositive": int(out.main_positive),
            "ContactorMainNegative": int(out.main_negative),
            "ContactorPrecharge": int(out.precharge),
            "FaultActive": int(bms.any_fault()),
            "BalancingActive": int(bool(bms.balancing.any())),
            "StateRequestSeen": int(bms.request_seen or 0),
        }

    def _faults(self, _mux: int) -> Values:
        faults = self.bms.faults()
        values: Values = {"BMS_Faults_CRC": 0, "BMS_Faults_Counter": 0}
        for name in FAULT_NAMES:
            values[name] = int(faults[name])
        return values

    def _pack(self, _mux: int) -> Values:
        bms = self.bms
        return {
            "PackVoltage": float(bms.cell_volts.sum()),
            "PackCurrent": bms.current_amps,
            "SOC": bms.soc_percent,
            "SOH": bms.p.soc.soh_percent,
        }

    def _limits(self, _mux: int) -> Values:
        charge, discharge = self.bms.current_limits()
        v_charge, v_discharge = self.bms.voltage_limits()
        return {"ChargeCurrentLimit": charge, "DischargeCurrentLimit": discharge,
                "ChargeVoltageLimit": v_charge, "DischargeVoltageLimit": v_discharge}

    def _cell_summary(self, _mux: int) -> Values:
        v = self.bms.cell_volts
        return {"MaxCellVoltage": float(v.max()), "MinCellVoltage": float(v.min()),
                "MaxCellIndex": int(v.argmax()) + 1, "MinCellIndex": int(v.argmin()) + 1}

    def _temperature_summary(self, _mux: int) -> Values:
        t = self.bms.temperatures
        if not self.bms.sensor_ok.any():
            return {"MaxTemperature": float("nan"), "MinTemperature": float("nan"),
                    "MaxTemperatureIndex": 0, "MinTemperatureIndex": 0}
        masked_max = [x if ok else -1e9 for x, ok in zip(t, self.bms.sensor_ok, strict=True)]
        masked_min = [x if ok else 1e9 for x, ok in zip(t, self.bms.sensor_ok, strict=True)]
        i_max = max(range(len(t)), key=masked_max.__getitem__)
        i_min = min(range(len(t)), key=masked_min.__getitem__)
        return {"MaxTemperature": float(t[i_max]), "MinTemperature": float(t[i_min]),
                "MaxTemperatureIndex": i_max + 1, "MinTemperatureIndex": i_min + 1}

    def _cell_voltages(self, mux: int) -> Values:
        values: Values = {"CellVoltagesMux": mux}
        reported = self.bms.reported_cell_volts
        for slot in range(CELLS_PER_FRAME):
            cell = mux * CELLS_PER_FRAME + slot  # 0-based
            value = float(reported[cell]) if cell < len(reported) else 0.0
            values[f"CellVoltage{cell + 1:03d}"] = value
        return values

    def _temperatures(self, mux: int) -> Values:
        values: Values = {"TemperaturesMux": mux}
        temps = self.bms.temperatures
        for slot in range(TEMPERATURES_PER_FRAME):
            sensor = mux * TEMPERATURES_PER_FRAME + slot
            value = float(temps[sensor]) if sensor < len(temps) else float("nan")
            values[f"Temperature{sensor + 1:02d}"] = value
        return values

    def _balancing(self, mux: int) -> Values:
        values: Values = {"BalancingMux": mux}
        bal = self.bms.balancing
        for slot in range(BALANCING_PER_FRAME):
            cell = mux * BALANCING_PER_FRAME + slot
            values[f"BalancingCell{cell + 1:03d}"] = int(bal[cell]) if cell < len(bal) else 0
        return values

    def _version(self, _mux: int) -> Values:
        major, minor, patch = (int(x) for x in self.bms.p.firmware_version.split("."))
        return {"FirmwareMajor": major, "FirmwareMinor": minor, "FirmwarePatch": patch,
                "ConfiguredCells": self.bms.p.cells,
                "ConfiguredTemperatures": self.bms.p.temperatures,
                "ProtocolVersion": PROTOCOL_VERSION}


def state_name(value: int) -> str:
    return State(value).name
