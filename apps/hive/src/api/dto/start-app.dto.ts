import { AppCommandOptionsDto } from './app-command-options.dto';

/** POST /api/apps/:instance/start: the stored start goes again, so only how to wait can be said. */
export class StartAppDto extends AppCommandOptionsDto {}
