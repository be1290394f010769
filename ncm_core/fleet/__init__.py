"""Many databases: the targets a fan-out runs on (:mod:`.targets`), where their tenants come
from (:mod:`.sources`), the journal of a fan-out run (:mod:`.journal`) and the bounded,
concurrent run over them (:mod:`.fanout`)."""
