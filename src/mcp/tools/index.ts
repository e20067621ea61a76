// The tool registry: adding a tool is adding a module here.
import type { Tool } from './types.ts'
import whoami from './whoami.ts'
import queryData from './query-data.ts'
import addRecord from './add-record.ts'
import callDownstream from './call-downstream.ts'

export const TOOLS: readonly Tool[] = [whoami, queryData, addRecord, callDownstream] as unknown as readonly Tool[]

export type { Tool, ToolDeps, ToolContext } from './types.ts'
