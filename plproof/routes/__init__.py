"""The theorem pipelines (docs/theory.md): the ball route (:mod:`.ball`), the trajectory route of a concrete
run (:mod:`.trajectory`) and the width search over both (:mod:`.width`)."""
