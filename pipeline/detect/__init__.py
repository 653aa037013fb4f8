"""The baseline bot detectors behind `profilegen eval-detector`: proof that a dataset's
labels can be learned, and that `bot_difficulty` is a dial.

- features.py: pure functions from columns to feature matrices: BotometerLite's profile
  features (Yang et al. 2020) and per-user behaviour features from the follows and posts;
- read.py: the few columns those need, shard by shard (avatars' bytes are never read);
- models.py: a random forest on the profile features, a histogram gradient boosting model
  on profile + behaviour features, both trained on the train split, scored on the test split;
- report.py: the report (`detector.json`), its table and the card's "Detector baseline".

The label columns (`account_type`, `campaign_id`, `split`, `decoy`) are never features.
"""
