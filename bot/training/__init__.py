"""The model lifecycle: NLU examples in data/nlu, candidate models, their evaluation, going live, rollback."""
