/** Public surface of the configuration module. */
export type { Config, Credentials, UpstreamConfig, UpstreamTimeouts } from './types.js';
export { loadConfig, loadConfigOrThrow, configFilePath, type LoadOptions, type LoadResult } from './load.js';
export { CONFIG_FILE, OPTIONS, OPTION_NAMES, describeOption, type Flags, type OptionName } from './options.js';
export { maskSecrets, MASK } from './mask.js';
export { renderEffective } from './render.js';
export { parseDuration, parseSize, formatDuration, formatSize } from './units.js';
export { parseListen, formatListen, type ListenAddress } from './listen.js';
export { LOG_LEVELS, type LogLevel } from './fields.js';
