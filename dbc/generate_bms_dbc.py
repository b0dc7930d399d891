"""Writes dbc/bms.dbc, the reference BMS protocol, from the table below.

The DBC is the contract; this script only exists because 192 cell signals, 192 balancing bits
and 64 temperatures are tedious and error-prone to type. Run it after changing the table:

    python dbc/generate_bms_dbc.py

and commit both files; `tests/unit/test_bms_dbc.py` checks that they agree.
"""

from __future__ import annotations

from pathlib import Path

from cantools.database import Database
from cantools.database.can import Message, Node, Signal
from cantools.database.conversion import BaseConversion

MAX_CELLS = 192
MAX_TEMPERATURES = 64
CELLS_PER_FRAME = 4
TEMPERATURES_PER_FRAME = 4
BALANCING_CELLS_PER_FRAME = 48

OUT = Path(__file__).with_name("bms.dbc")

OPEN_CLOSED = {0: "OPEN", 1: "CLOSED"}
ACTIVE = {0: "INACTIVE", 1: "ACTIVE"}
BMS_STATES = {0: "INIT", 1: "STANDBY", 2: "PRECHARGE", 3: "DRIVE", 4: "CHARGE", 5: "FAULT"}
STATE_REQUESTS = {0: "STANDBY", 1: "DRIVE", 2: "CHARGE"}

E2E_COMMENT = (
    "Safety frame protected end to end: byte 0 is a CRC-8/SAE-J1850 (poly 0x1D, init 0xFF, "
    "xor-out 0xFF) over the low byte of the frame ID followed by bytes 1..7; the 4-bit alive "
    "counter in byte 1 increments by one (mod 16) with every frame."
)


def sig(name: str, start: int, length: int, *, scale: float = 1, offset: float = 0,
        signed: bool = False, unit: str | None = None, choices: dict[int, str] | None = None,
        minimum: float | None = None, maximum: float | None = None, big_endian: bool = False,
        comment: str | None = None, mux: int | None = None, mux_signal: str | None = None,
        is_multiplexer: bool = False, receivers: list[str] | None = None) -> Signal:
    is_float = False
    conversion = BaseConversion.factory(scale=scale, offset=offset, choices=choices,
                                        is_float=is_float)
    if minimum is None and maximum is None:
        raw_min = -(1 << (length - 1)) if signed else 0
        raw_max = (1 << (length - 1)) - 1 if signed else (1 << length) - 1
        minimum = round(raw_min * scale + offset, 6)
        maximum = round(raw_max * scale + offset, 6)
    return Signal(
        name=name, start=start, length=length,
        byte_order="big_endian" if big_endian else "little_endian",
        is_signed=signed, conversion=conversion, minimum=minimum, maximum=maximum, unit=unit,
        comment=comment, receivers=receivers or [],
        is_multiplexer=is_multiplexer,
        multiplexer_ids=[mux] if mux is not None else None,
        multiplexer_signal=mux_signal,
    )


def e2e_pair(prefix: str) -> list[Signal]:
    return [
        sig(f"{prefix}_CRC", 0, 8, comment="CRC-8/SAE-J1850 over data ID and bytes 1..7"),
        sig(f"{prefix}_Counter", 8, 4, comment="Alive counter, +1 per frame, wraps at 16"),
    ]


def bms_status() -> Message:
    signals = [
        *e2e_pair("BMS_Status"),
        sig("BMS_State", 12, 4, choices=BMS_STATES, minimum=0, maximum=5,
            comment="Operating state of the BMS state machine"),
        sig("ContactorMainPositive", 16, 1, choices=OPEN_CLOSED),
        sig("ContactorMainNegative", 17, 1, choices=OPEN_CLOSED),
        sig("ContactorPrecharge", 18, 1, choices=OPEN_CLOSED),
        sig("FaultActive", 19, 1, choices=ACTIVE, comment="Any fault latched"),
        sig("BalancingActive", 20, 1, choices=ACTIVE),
        sig("StateRequestSeen", 21, 2, choices=STATE_REQUESTS, minimum=0, maximum=2,
            comment="Last valid VCU state request"),
    ]
    return Message(0x0A0, "BMS_Status", 8, signals, senders=["BMS"], cycle_time=50,
                   comment="BMS state and contactors. " + E2E_COMMENT)


FAULT_BITS = [
    ("Fault_CellOverVoltage", "A cell is above the over-voltage threshold (debounced, latched)"),
    ("Fault_CellUnderVoltage", "A cell is below the under-voltage threshold"),
    ("Fault_CellOverTemperature", "A temperature is above the over-temperature threshold"),
    ("Fault_CellUnderTemperature", "A temperature is below the under-temperature threshold"),
    ("Fault_OverCurrentCharge", "Charge current above its limit"),
    ("Fault_OverCurrentDischarge", "Discharge current above its limit"),
    ("Fault_SensorFault", "A temperature sensor reads open or short circuit"),
    ("Fault_CanTimeoutVcu", "No valid VCU_Request within its timeout"),
    ("Fault_CanTimeoutCurrentSensor", "No current-sensor result frame within its timeout"),
    ("Fault_OpenWire", "A cell sense line is open"),
    ("Fault_E2eError", "An inbound frame failed its counter or CRC check repeatedly"),
    ("Fault_PrechargeFailed", "Precharge did not complete in time"),
]


def bms_faults() -> Message:
    signals = [*e2e_pair("BMS_Faults")]
    for bit, (name, comment) in enumerate(FAULT_BITS):
        signals.append(sig(name, 16 + bit, 1, choices=ACTIVE, comment=comment))
    return Message(0x0A1, "BMS_Faults", 8, signals, senders=["BMS"], cycle_time=50,
                   comment="Latched protection faults. " + E2E_COMMENT)


def bms_pack() -> Message:
    signals = [
        sig("PackVoltage", 0, 16, scale=0.1, unit="V"),
        sig("PackCurrent", 16, 16, scale=0.1, signed=True, unit="A",
            comment="Pack current as the BMS measures it; positive = discharge"),
        sig("SOC", 32, 16, scale=0.01, unit="%", minimum=0, maximum=100,
            comment="State of charge: coulomb counting, initialised from OCV"),
        sig("SOH", 48, 8, scale=0.5, unit="%", minimum=0, maximum=127.5),
    ]
    return Message(0x0A2, "BMS_Pack", 8, signals, senders=["BMS"], cycle_time=100)


def bms_limits() -> Message:
    signals = [
        sig("ChargeCurrentLimit", 0, 16, scale=0.1, unit="A"),
        sig("DischargeCurrentLimit", 16, 16, scale=0.1, unit="A"),
        sig("ChargeVoltageLimit", 32, 16, scale=0.1, unit="V"),
        sig("DischargeVoltageLimit", 48, 16, scale=0.1, unit="V"),
    ]
    return Message(0x0A3, "BMS_Limits", 8, signals, senders=["BMS"], cycle_time=100)


def bms_cell_summary() -> Message:
    signals = [
        sig("MaxCellVoltage", 0, 16, scale=0.001, unit="V"),
        sig("MinCellVoltage", 16, 16, scale=0.001, unit="V"),
        sig("MaxCellIndex", 32, 8, comment="1-based index of the highest cell"),
        sig("MinCellIndex", 40, 8, comment="1-based index of the lowest cell"),
    ]
    return Message(0x0A4, "BMS_CellSummary", 8, signals, senders=["BMS"], cycle_time=100)


def bms_temperature_summary() -> Message:
    signals = [
        sig("MaxTemperature", 0, 16, scale=0.1, signed=True, unit="degC"),
        sig("MinTemperature", 16, 16, scale=0.1, signed=True, unit="degC"),
        sig("MaxTemperatureIndex", 32, 8),
        sig("MinTemperatureIndex", 40, 8),
    ]
    return Message(0x0A5, "BMS_TemperatureSummary", 8, signals, senders=["BMS"],
                   cycle_time=100)


def bms_balancing() -> Message:
    mux = "BalancingMux"
    signals = [sig(mux, 0, 8, is_multiplexer=True,
                   maximum=MAX_CELLS // BALANCING_CELLS_PER_FRAME - 1, minimum=0)]
    for cell in range(1, MAX_CELLS + 1):
        m, slot = divmod(cell - 1, BALANCING_CELLS_PER_FRAME)
        signals.append(sig(f"BalancingCell{cell:03d}", 8 + slot, 1, choices=ACTIVE,
                           mux=m, mux_signal=mux))
    return Message(0x0A6, "BMS_Balancing", 8, signals, senders=["BMS"], cycle_time=500,
                   comment="Balancing switch per cell, 48 cells per multiplexer value. "
                           "GenMsgCycleTime is the period of each multiplexer value.")


def bms_cell_voltages() -> Message:
    mux = "CellVoltagesMux"
    signals = [sig(mux, 0, 8, is_multiplexer=True, minimum=0,
                   maximum=MAX_CELLS // CELLS_PER_FRAME - 1)]
    for cell in range(1, MAX_CELLS + 1):
        m, slot = divmod(cell - 1, CELLS_PER_FRAME)
        signals.append(sig(f"CellVoltage{cell:03d}", 8 + 14 * slot, 14, scale=0.001, unit="V",
                           mux=m, mux_signal=mux))
    return Message(0x0B0, "BMS_CellVoltages", 8, signals, senders=["BMS"], cycle_time=200,
                   comment="Measured cell voltages, 4 cells per multiplexer value. "
                           "GenMsgCycleTime is the period of each multiplexer value.")


def bms_temperatures() -> Message:
    mux = "TemperaturesMux"
    signals = [sig(mux, 0, 8, is_multiplexer=True, minimum=0,
                   maximum=MAX_TEMPERATURES // TEMPERATURES_PER_FRAME - 1)]
    for sensor in range(1, MAX_TEMPERATURES + 1):
        m, slot = divmod(sensor - 1, TEMPERATURES_PER_FRAME)
        signals.append(sig(f"Temperature{sensor:02d}", 8 + 14 * slot, 14, scale=0.1,
                           signed=True, unit="degC", mux=m, mux_signal=mux))
    return Message(0x0B1, "BMS_Temperatures", 8, signals, senders=["BMS"], cycle_time=500,
                   comment="Measured temperatures, 4 sensors per multiplexer value. "
                           "GenMsgCycleTime is the period of each multiplexer value.")


def bms_version() -> Message:
    signals = [
        sig("FirmwareMajor", 0, 8), sig("FirmwareMinor", 8, 8), sig("FirmwarePatch", 16, 8),
        sig("ConfiguredCells", 24, 8), sig("ConfiguredTemperatures", 32, 8),
        sig("ProtocolVersion", 40, 8),
    ]
    return Message(0x0C0, "BMS_Version", 8, signals, senders=["BMS"], cycle_time=1000)


def vcu_request() -> Message:
    signals = [
        *e2e_pair("VCU_Request"),
        sig("VCU_StateRequest", 12, 2, choices=STATE_REQUESTS, minimum=0, maximum=2,
            receivers=["BMS"]),
        sig("VCU_FaultReset", 14, 1, receivers=["BMS"],
            comment="1 = clear latched faults whose condition has cleared"),
    ]
    return Message(0x100, "VCU_Request", 8, signals, senders=["VCU"], cycle_time=100,
                   comment="Operating mode request from the vehicle. " + E2E_COMMENT)


def ivt_result_current() -> Message:
    """Isabellenhuette IVT-S current result, layout as in foxBMS's foxbms.dbc (0x521)."""
    signals = [
        sig("IVT_ID_Result_I", 7, 8, big_endian=True, minimum=0, maximum=0,
            comment="Result ID, 0x00 for current", receivers=["BMS"]),
        sig("IVT_MsgCount_Result_I", 11, 4, big_endian=True, receivers=["BMS"]),
        sig("IVT_Result_I_OCS", 12, 1, big_endian=True, receivers=["BMS"]),
        sig("IVT_Result_I_Channel_Error", 13, 1, big_endian=True, receivers=["BMS"]),
        sig("IVT_Result_I_Measurement_Error", 14, 1, big_endian=True, receivers=["BMS"]),
        sig("IVT_Result_I_System_Error", 15, 1, big_endian=True, receivers=["BMS"]),
        sig("IVT_Result_I", 23, 32, big_endian=True, signed=True, unit="mA",
            comment="Current through the shunt; positive = discharge", receivers=["BMS"]),
    ]
    return Message(0x521, "IVT_Msg_Result_I", 6, signals, senders=["IVT"], cycle_time=10,
                   comment="Isabellenhuette IVT-S current result (big-endian layout).")


def build() -> Database:
    messages = [
        bms_status(), bms_faults(), bms_pack(), bms_limits(), bms_cell_summary(),
        bms_temperature_summary(), bms_balancing(), bms_cell_voltages(), bms_temperatures(),
        bms_version(), vcu_request(), ivt_result_current(),
    ]
    nodes = [Node("BMS", "Reference BMS"), Node("VCU", "Vehicle control unit (the rig)"),
             Node("IVT", "Isabellenhuette IVT-S current sensor (the rig)")]
    return Database(messages=messages, nodes=nodes, version="1.0")


def render() -> str:
    return build().as_dbc_string()


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
