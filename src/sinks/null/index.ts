export * from './null-sink.js';
