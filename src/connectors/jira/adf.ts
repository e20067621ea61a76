// Atlassian Document Format (the JSON tree JIRA Cloud v3 uses for rich text) to plain text for the model,
// and plain text to the smallest valid ADF document for writes. Unknown nodes keep their text content, so
// a new node type degrades to its words rather than disappearing.

interface AdfNode {
  type?: unknown
  text?: unknown
  attrs?: Record<string, unknown>
  content?: unknown
}

const BLOCKS = new Set(['paragraph', 'heading', 'blockquote', 'codeBlock', 'panel', 'rule', 'mediaSingle', 'mediaGroup', 'table', 'expand', 'nestedExpand', 'decisionList', 'taskList'])

function children (node: AdfNode): AdfNode[] {
  return Array.isArray(node.content) ? node.content.filter((c): c is AdfNode => c !== null && typeof c === 'object') : []
}

function inline (node: AdfNode): string {
  switch (node.type) {
    case 'text': return typeof node.text === 'string' ? node.text : ''
    case 'hardBreak': return '\n'
    case 'mention': return String(node.attrs?.text ?? '@someone')
    case 'emoji': return String(node.attrs?.text ?? node.attrs?.shortName ?? '')
    case 'inlineCard': return String(node.attrs?.url ?? '')
    case 'date': return typeof node.attrs?.timestamp === 'string' ? new Date(Number(node.attrs.timestamp)).toISOString().slice(0, 10) : ''
    case 'status': return `[${String(node.attrs?.text ?? '')}]`
    default: return children(node).map(inline).join('')
  }
}

function block (node: AdfNode, depth: number): string {
  switch (node.type) {
    case 'doc': return children(node).map(n => block(n, depth)).filter(s => s !== '').join('\n\n')
    case 'bulletList':
    case 'orderedList':
      return children(node).map((item, i) => {
        const bullet = node.type === 'bulletList' ? '-' : `${i + 1}.`
        const body = children(item).map(n => block(n, depth + 1)).join('\n')
        return `${'  '.repeat(depth)}${bullet} ${body.trimStart()}`
      }).join('\n')
    case 'codeBlock': return '```\n' + children(node).map(inline).join('') + '\n```'
    case 'blockquote': return children(node).map(n => block(n, depth)).join('\n').split('\n').map(l => `> ${l}`).join('\n')
    case 'rule': return '---'
    case 'table': return children(node).map(row => children(row).map(cell => children(cell).map(n => block(n, depth)).join(' ')).join(' | ')).join('\n')
    default:
      if (BLOCKS.has(String(node.type))) return children(node).map(n => (BLOCKS.has(String(n.type)) ? block(n, depth) : inline(n))).join(node.type === 'paragraph' || node.type === 'heading' ? '' : '\n')
      return inline(node)
  }
}

/** Plain text of an ADF value; a plain string (older fields) is returned as it is. */
export function adfToText (value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || typeof value !== 'object') return ''
  return block(value as AdfNode, 0).trim()
}

/** An ADF document: blank lines separate paragraphs, single newlines become hard breaks. */
export function textToAdf (text: string): Record<string, unknown> {
  const paragraphs = text.replace(/\r\n?/g, '\n').split(/\n{2,}/).map(p => p.trim()).filter(p => p !== '')
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map(p => ({
      type: 'paragraph',
      content: p.split('\n').flatMap((line, i) => [...(i > 0 ? [{ type: 'hardBreak' }] : []), ...(line === '' ? [] : [{ type: 'text', text: line }])])
    }))
  }
}
