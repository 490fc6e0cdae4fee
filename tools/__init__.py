"""The secret tools of SPEC §5: the catalogue (`tools.catalogue`), one module per tool, and the
grants that decide who may use which (`tools.base`). Offers, consent and recording come next."""
