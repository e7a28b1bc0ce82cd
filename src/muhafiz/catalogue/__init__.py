"""Law and geography as data: places, agencies, offences and deadlines, each citing a source."""
