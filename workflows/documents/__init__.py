"""Documents made from what was recorded: an action minute, a referral for legal advice, a
review record, each from the council's Word template of the task's process version."""
