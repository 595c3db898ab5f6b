"""Generic step types: functions `fn(ctx)` named by `hcrisis.study.steptypes`."""
