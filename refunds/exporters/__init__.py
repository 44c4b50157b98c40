"""Exports for auditors (SPEC §5), by key."""

from .base import ExportRefused
from .held_funds import HeldFundsExporter, UnclaimedPropertyExporter
from .records import (
    AuditTrailExporter,
    CheckRegisterExporter,
    ClosuresExporter,
    ErasureRecordsExporter,
    FinalStatementsExporter,
    RefundsExporter,
)

EXPORTERS = {
    exporter.key: exporter
    for exporter in (
        ClosuresExporter(),
        RefundsExporter(),
        CheckRegisterExporter(),
        FinalStatementsExporter(),
        AuditTrailExporter(),
        HeldFundsExporter(),
        UnclaimedPropertyExporter(),
        ErasureRecordsExporter(),
    )
}

__all__ = ["EXPORTERS", "ExportRefused"]
