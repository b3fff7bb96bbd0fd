// What @credo-ts/node and @credo-ts/askar would supply, for a wallet that lives in one folder:
// records and private keys as JSON files. Askar's native library is downloaded from GitHub at
// install time, which an offline or registry-only machine cannot do; this keeps the engine pure JS.
import fs from 'node:fs'
import path from 'node:path'
import { JsonTransformer, RecordDuplicateError, RecordNotFoundError } from '@credo-ts/core'

function readJson(file, fallback) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (error) {
    if (error.code === 'ENOENT') return fallback
    throw error
  }
}

function writeJson(file, value) {
  const temporary = `${file}.${process.pid}.tmp`
  fs.writeFileSync(temporary, JSON.stringify(value), { mode: 0o600 })
  fs.renameSync(temporary, file)
}

function matchSimple(query, tags) {
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    const tag = tags[key]
    if (Array.isArray(value)) {
      if (!Array.isArray(tag) || !value.every((v) => tag.includes(v))) return false
    } else if (value === null) {
      if (tag !== undefined && tag !== null) return false
    } else if (tag !== value) {
      return false
    }
  }
  return true
}

function matches(query, tags) {
  const { $and, $or, $not, ...simple } = query
  if (!matchSimple(simple, tags)) return false
  if ($and && !$and.every((q) => matches(q, tags))) return false
  if ($or && !$or.some((q) => matches(q, tags))) return false
  if ($not && matches($not, tags)) return false
  return true
}

/** Credo's StorageService contract over one JSON file per wallet folder. */
export class JsonFileStorageService {
  supportsCursorPagination = false

  constructor(folder) {
    this.file = path.join(folder, 'records.json')
  }

  load() {
    return readJson(this.file, {})
  }

  async save(_agentContext, record) {
    record.updatedAt = new Date()
    const records = this.load()
    if (records[record.id]) throw new RecordDuplicateError(`record ${record.id} exists`, { recordType: record.type })
    records[record.id] = { type: record.type, value: JsonTransformer.toJSON(record), tags: record.getTags() }
    writeJson(this.file, records)
  }

  async update(_agentContext, record) {
    record.updatedAt = new Date()
    const records = this.load()
    if (!records[record.id]) throw new RecordNotFoundError(`record ${record.id} not found`, { recordType: record.type })
    records[record.id] = { type: record.type, value: JsonTransformer.toJSON(record), tags: record.getTags() }
    writeJson(this.file, records)
  }

  async delete(agentContext, record) {
    return this.deleteById(agentContext, record.constructor, record.id)
  }

  async deleteById(_agentContext, recordClass, id) {
    const records = this.load()
    if (!records[id]) throw new RecordNotFoundError(`record ${id} not found`, { recordType: recordClass.type })
    delete records[id]
    writeJson(this.file, records)
  }

  instance(row, id, recordClass) {
    const instance = JsonTransformer.fromJSON(row.value, recordClass)
    instance.id = id
    instance.replaceTags(row.tags)
    return instance
  }

  async getById(_agentContext, recordClass, id) {
    const row = this.load()[id]
    if (!row || row.type !== recordClass.type) {
      throw new RecordNotFoundError(`record ${id} not found`, { recordType: recordClass.type })
    }
    return this.instance(row, id, recordClass)
  }

  async getAll(agentContext, recordClass) {
    return this.findByQuery(agentContext, recordClass, {})
  }

  async findByQuery(_agentContext, recordClass, query, options = {}) {
    const found = Object.entries(this.load())
      .filter(([, row]) => row.type === recordClass.type && matches(query, row.tags))
      .map(([id, row]) => this.instance(row, id, recordClass))
    const offset = options.offset ?? 0
    return found.slice(offset, options.limit === undefined ? undefined : offset + options.limit)
  }
}

/** The private JWKs of Credo's Node KMS, kept in the wallet folder between runs. */
export class JsonFileKeyStorage {
  constructor(folder) {
    this.file = path.join(folder, 'keys.json')
  }

  async get(_agentContext, keyId) {
    return readJson(this.file, {})[keyId] ?? null
  }

  has(_agentContext, keyId) {
    return keyId in readJson(this.file, {})
  }

  set(_agentContext, keyId, jwk) {
    const keys = readJson(this.file, {})
    keys[keyId] = jwk
    writeJson(this.file, keys)
  }

  delete(_agentContext, keyId) {
    const keys = readJson(this.file, {})
    const had = keyId in keys
    delete keys[keyId]
    writeJson(this.file, keys)
    return had
  }
}
