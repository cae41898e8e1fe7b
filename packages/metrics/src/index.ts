export { TrackOscillation, type TrackOscillationOptions, type TrackOscillationCallOptions } from './track-oscillation.js';
