"""What the demo plant is made of: machine kinds, breakdowns, people and reasons (shared by
the seed and the simulator)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    kind: str
    prefix: str
    area: str
    cycle_s: tuple[float, float]  # ideal cycle time range
    setup_min: tuple[int, int]
    job_h: tuple[float, float]  # running hours per job


@dataclass(frozen=True)
class Breakdown:
    reason: str
    priority: str
    weight: int  # how common it is
    kinds: tuple[str, ...]
    minutes: tuple[int, int]  # how long the repair takes
    title: str
    descriptions: tuple[str, ...]


# fmt: off
KINDS = (
    Kind("mill", "MILL", "Milling", (90, 240), (20, 60), (2.0, 8.0)),
    Kind("lathe", "LATHE", "Turning", (45, 120), (15, 45), (1.5, 6.0)),
    Kind("saw", "SAW", "Cutting", (20, 60), (5, 20), (1.0, 4.0)),
    Kind("press", "PRESS", "Forming", (4, 12), (25, 75), (2.0, 6.0)),
)
ALL = ("mill", "lathe", "saw", "press")
BREAKDOWNS = (
    Breakdown("spindle overload", "high", 2, ("mill", "lathe"), (30, 180),
              "Spindle overload alarm", (
        "Spindle load passed the limit in a roughing pass and the control stopped the cycle.",
        "Overload alarm on the spindle drive after a heavy cut; the spindle will not restart.")),
    Breakdown("hydraulic leak", "high", 2, ("lathe", "saw", "press"), (45, 240),
              "Hydraulic leak", (
        "Oil under the machine and hydraulic pressure dropping; stopped to prevent damage.",
        "Leak at a hose fitting near the clamping cylinder; low-pressure alarm.")),
    Breakdown("tool breakage", "medium", 4, ("mill", "lathe", "saw"), (15, 75),
              "Tool breakage", (
        "Tool broke mid-cut; tool monitoring stopped the machine. Check part and fixture.",
        "Insert chipped and the tool snapped on the next pass; spindle stopped.")),
    Breakdown("coolant pump", "medium", 2, ("mill", "lathe", "saw"), (30, 150),
              "Coolant pump failure", (
        "No coolant flow; the pump motor trips its breaker.",
        "Coolant pressure alarm and a grinding noise from the pump.")),
    Breakdown("sensor fault", "low", 3, ALL, (10, 60), "Sensor fault", (
        "Clamp proximity sensor gives no signal; the machine refuses to start a cycle.",
        "Intermittent signal from a position sensor stops the cycle every few parts.")),
    Breakdown("PLC fault", "critical", 1, ALL, (30, 240), "PLC fault", (
        "Controller stopped with a PLC fault and will not reset.",
        "PLC lost communication with the I/O module; all axes disabled.")),
    Breakdown("die damage", "high", 2, ("press",), (60, 300), "Die damage", (
        "Crack found in the lower die after a double hit; press locked out.",
        "Punch chipped and parts show burrs; die pulled for repair.")),
)
MINOR_ISSUES = (  # (title, description, priority): defects found while the machine runs
    ("Oil leak at way cover", "Small oil puddle under the way cover; machine still runs.", "low"),
    ("Chip conveyor jams", "Chip conveyor stops every few hours and needs a restart.", "medium"),
    ("Coolant concentration low", "Refractometer reads 4%, target is 7%.", "low"),
    ("Guard door interlock intermittent",
     "Door switch sometimes not detected; cycle start refused until reopened.", "medium"),
    ("Unusual noise from gearbox", "Operator hears a whining noise at high speed.", "high"),
    ("Worn clamp jaws", "Parts slip in the clamp; jaws need replacing.", "medium"),
    ("Air pressure drops", "Pneumatic pressure warning at the start of each shift.", "high"),
    ("Work light broken", "LED work light in the enclosure is out.", "low"),
    ("Emergency stop sticks", "E-stop on the operator panel does not latch reliably.", "critical"),
)
OPERATORS = ("K. Meyer", "L. Rossi", "P. Dubois", "D. Schmidt", "E. Kowalski", "H. Ito",
             "N. Garcia", "C. Brown")
TECHNICIANS = ("A. Novak", "J. Okafor", "M. Lindqvist", "R. Patel", "S. Moreau", "T. Yamada")
SHIFT_LEADS = ("B. Fischer", "G. Horvat", "F. Nilsen")
# Breaks are the calendar's (idle, "break"); these are the stops a shift has besides them.
IDLE_REASONS = ("waiting for material", "waiting for operator", "waiting for inspection",
                "waiting for tooling", "waiting for crane")
PM_TASKS = ("lubrication", "filter change", "spindle inspection", "hydraulic oil change",
            "axis calibration")
PRIORITIES = ("low", "medium", "high", "critical")
# fmt: on
