from ncm_core.hookspecs import hookimpl
from ncm_core.validators.builtin import (Checksums, FailedRecords, InterruptedRecords, MissingFiles, Reversible,
                                        SumFileIntegrity)


@hookimpl
def ncm_register_validators():
    return [Checksums, MissingFiles, FailedRecords, InterruptedRecords, Reversible, SumFileIntegrity]
