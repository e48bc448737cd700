"""peer's pure model, one module per program: convenings and registrations (``convening``,
``registration``), working groups and the steering committee (``groups``), peer introductions
(``introductions``). Later programs of the same service (municipal health data, the pro bono
talent network) get modules of their own beside these."""
