import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.ts';
import { escapeXml } from './xml-text.ts';

/** Namespaces of the contract; the target namespace carries the API version. */
export const SEALPOST_NS = 'urn:sealpost:v1';
export const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const SOAP_PATH = '/soap/v1';

/** The operations of wsdl/sealpost-v1.wsdl; each one's SOAPAction is `urn:sealpost:v1/<name>`. */
export const operationNames = [
  'SubmitMessage',
  'GetMessageStatus',
  'ListMessages',
  'GetMessageEvents',
  'CancelMessage',
  'GetReadReceipts',
  'GetDeliveryProof',
] as const;
export type OperationName = (typeof operationNames)[number];

export const soapActionOf = (operation: OperationName) => `${SEALPOST_NS}/${operation}`;

/** The static, hand-written WSDL, read once: it is the contract, never generated. */
export function readWsdl(): string {
  return readFileSync(projectPath('wsdl', 'sealpost-v1.wsdl'), 'utf8');
}

const ADDRESS = /(<soap:address\s+location=")[^"]*(")/;

/** The WSDL as served: only the endpoint address changes, to where this server is reached. */
export function wsdlWithAddress(wsdl: string, baseUrl: string): string {
  const endpoint = `${baseUrl.replace(/\/+$/, '')}${SOAP_PATH}`;
  return wsdl.replace(ADDRESS, (_m, head: string, tail: string) => `${head}${escapeXml(endpoint)}${tail}`);
}
