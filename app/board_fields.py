"""The board's fields of the calibration dialogs (Calibrate a camera, Place cameras): a checkerboard
by its inner corners or a ChArUco board by its squares, the side of a square and of a marker (4x4
markers of OpenCV's first 50, as `monocap calibrate board-image` prints), read as the engine's board."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox

from engine.session.guided_calibration import DEFAULT_BOARD, DEFAULT_SQUARE_MM, parse_board


class BoardFields:
    def __init__(self, board: str = DEFAULT_BOARD, square_mm: float = DEFAULT_SQUARE_MM, marker_mm: float = 0.0):
        """board: as `--board` takes it (4x7, charuco:7x5); marker_mm 0: three quarters of a square."""
        charuco = board.startswith("charuco:")
        columns, rows = (int(n) for n in board.partition(":")[2 if charuco else 0].split("x"))
        self.kind = QComboBox()
        self.kind.addItem("Checkerboard: inner corners", "checker")
        self.kind.addItem("ChArUco: squares", "charuco")
        self.columns = QSpinBox(minimum=2, maximum=30, value=columns)
        self.rows = QSpinBox(minimum=2, maximum=30, value=rows)
        self.square = QDoubleSpinBox(minimum=1.0, maximum=500.0, value=square_mm, suffix=" mm", decimals=1)
        self.marker = QDoubleSpinBox(minimum=0.0, maximum=500.0, value=marker_mm, suffix=" mm", decimals=1,
                                     specialValueText="3/4 of a square", enabled=charuco)
        self.kind.currentIndexChanged.connect(lambda: self.marker.setEnabled(self.charuco))
        self.kind.setCurrentIndex(1 if charuco else 0)

    @property
    def charuco(self) -> bool:
        return self.kind.currentData() == "charuco"

    def add_to(self, form: QFormLayout) -> None:
        size = QHBoxLayout()
        for w in (self.columns, QLabel("x"), self.rows, QLabel("square"), self.square):
            size.addWidget(w)
        form.addRow("Board", self.kind)
        form.addRow("", size)
        form.addRow("ChArUco marker", self.marker)

    def board(self):
        """The board described (engine.multiview's Board or CharucoBoard); InputError (one line) when it cannot be."""
        return parse_board(("charuco:" if self.charuco else "") + f"{self.columns.value()}x{self.rows.value()}",
                           self.square.value(), (self.marker.value() or None) if self.charuco else None)
